// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {Epochs} from "./Epochs.sol";
import {Params} from "./Params.sol";
import {Token} from "./Token.sol";
import {Validators} from "./Validators.sol";

/// @title Rewards — emissions, quorum-signed epoch roots and cumulative claims
/// @notice Emission for epoch e is `initialEmission >> (e / halvingEpochs)`. After an epoch closes the
///         validators post one root over every account's *cumulative* earnings (leaf format of the
///         OpenZeppelin merkle-tree library for (address, uint256)), signed by a two-thirds stake quorum.
///         `claim` pays cumulative minus already claimed. Two budgets bound what a root may add:
///         the circuit breaker (at most REWARDS_BREAKER_MULTIPLIER times the epoch's own emission) and
///         the schedule (all roots together never exceed the emission of the epochs so far).
///         Tokens are minted lazily into this contract (`mintPending`, or by a claim that finds the
///         pool short), so posting a root stays O(1) and cheap.
contract Rewards {
    bytes32 public constant REWARDS_BREAKER_MULTIPLIER = keccak256("REWARDS_BREAKER_MULTIPLIER");

    error EpochNotClosed(uint256 epoch, uint256 current);
    error EpochAlreadyRewarded(uint256 epoch, uint256 nextEpoch);
    error CircuitBreaker(uint256 total, uint256 limit);
    error EmissionExceeded(uint256 allocated, uint256 emitted);
    error InvalidProof(address account, uint256 cumulative);
    error NothingToClaim(address account, uint256 cumulative, uint256 claimed);

    Token public immutable token;
    Validators public immutable validators;
    Params public immutable params;
    uint256 public immutable genesis;
    uint256 public immutable epochLength;
    uint256 public immutable initialEmission;
    uint256 public immutable halvingEpochs;

    /// @notice The latest cumulative rewards root.
    bytes32 public root;
    /// @notice The next epoch that may be rewarded (epochs are rewarded in increasing order, once).
    uint64 public nextEpoch;
    /// @notice Sum of all posted totals.
    uint192 public totalAllocated;
    /// @notice Tokens minted into this contract so far.
    uint256 public totalMinted;
    mapping(address => uint256) public claimed;

    event RootPosted(uint256 indexed epoch, bytes32 rewardsRoot, bytes32 evidenceRoot, uint256 total);
    event Claimed(address indexed account, uint256 amount, uint256 cumulative);
    event Minted(uint256 amount);

    constructor(
        Token token_,
        Validators validators_,
        Params params_,
        Epochs epochs_,
        uint256 initialEmission_,
        uint256 halvingEpochs_
    ) {
        token = token_;
        validators = validators_;
        params = params_;
        genesis = epochs_.genesis();
        epochLength = epochs_.length();
        initialEmission = initialEmission_;
        halvingEpochs = halvingEpochs_;
    }

    /// @notice Posts a closed epoch's cumulative root with quorum signatures (see Validators).
    function postRoot(uint256 epoch, bytes32 rewardsRoot, bytes32 evidenceRoot, uint256 total, bytes calldata signatures)
        external
    {
        uint256 current = currentEpoch();
        if (epoch >= current) revert EpochNotClosed(epoch, current);
        uint256 next = nextEpoch;
        if (epoch < next) revert EpochAlreadyRewarded(epoch, next);
        uint256 limit = emissionForEpoch(epoch) * params.get(REWARDS_BREAKER_MULTIPLIER);
        if (total > limit) revert CircuitBreaker(total, limit);
        uint256 allocated = totalAllocated + total;
        uint256 emitted = cumulativeEmission(epoch);
        if (allocated > emitted) revert EmissionExceeded(allocated, emitted);
        validators.verifyEpochRoot(epoch, rewardsRoot, evidenceRoot, total, signatures);
        root = rewardsRoot;
        nextEpoch = uint64(epoch + 1);
        totalAllocated = uint192(allocated);
        emit RootPosted(epoch, rewardsRoot, evidenceRoot, total);
    }

    /// @notice Pays `account` its cumulative earnings minus what it already claimed. Anyone may call.
    function claim(address account, uint256 cumulative, bytes32[] calldata proof) external returns (uint256 amount) {
        bytes32 leaf = keccak256(bytes.concat(keccak256(abi.encode(account, cumulative))));
        if (!MerkleProof.verifyCalldata(proof, root, leaf)) revert InvalidProof(account, cumulative);
        uint256 already = claimed[account];
        if (cumulative <= already) revert NothingToClaim(account, cumulative, already);
        amount = cumulative - already;
        claimed[account] = cumulative;
        if (token.balanceOf(address(this)) < amount) mintPending();
        token.transfer(account, amount);
        emit Claimed(account, amount, cumulative);
    }

    /// @notice Mints every allocated but not yet minted token into this contract (one call per epoch).
    function mintPending() public returns (uint256 amount) {
        amount = totalAllocated - totalMinted;
        if (amount == 0) return 0;
        totalMinted += amount;
        token.mint(address(this), amount);
        emit Minted(amount);
    }

    function currentEpoch() public view returns (uint256) {
        if (block.timestamp < genesis) return 0;
        return (block.timestamp - genesis) / epochLength;
    }

    function emissionForEpoch(uint256 epoch) public view returns (uint256) {
        uint256 halvings = epoch / halvingEpochs;
        return halvings >= 256 ? 0 : initialEmission >> halvings;
    }

    /// @notice Emission of epochs 0..epoch inclusive, in O(halvings).
    function cumulativeEmission(uint256 epoch) public view returns (uint256 sum) {
        uint256 remaining = epoch + 1;
        uint256 rate = initialEmission;
        while (remaining > 0 && rate > 0) {
            uint256 span = remaining < halvingEpochs ? remaining : halvingEpochs;
            sum += span * rate;
            remaining -= span;
            rate >>= 1;
        }
    }
}
