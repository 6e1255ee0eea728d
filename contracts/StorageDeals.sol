// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {Credits} from "./Credits.sol";
import {Epochs} from "./Epochs.sol";
import {Params} from "./Params.sol";
import {Registry} from "./Registry.sol";
import {Validators} from "./Validators.sol";

/// @title StorageDeals — storage deals escrowed in Credits, paid to nodes by one root per epoch
/// @notice A client creates a deal over the Merkle root of a file's piece ids and escrows Credits:
///         `durationEpochs × pricePerEpoch` for a term deal, or an endowment for a permanent one
///         (Arweave-style: the first year's cost divided by −ln(1 − yearly cost decline), see
///         `endowment`). Nodes are paid by the validators: after an epoch closes, a two-thirds stake
///         quorum signs one settlement (`StorageSettlement(epoch, root, total, prevStateHash,
///         stateHash, actionsHash)` under the Validators' EIP-712 domain): a cumulative Credits root, and the node actions the
///         audits called for — suspend, reinstate, slash proven loss — which this contract carries
///         out on the Registry. `claimCredits` pays each account its cumulative amount minus what it
///         already claimed. `stateHash` commits the validators' off-chain storage state (reputations,
///         withheld pool) so the next settlement starts from what the quorum agreed; a settlement
///         names the state it starts from (`prevStateHash`, which must be the one on chain), so one
///         computed before another was posted can never be posted after it. All roots together never exceed what was escrowed minus
///         what was refunded, and all claims never exceed all roots' totals, so a wrong quorum can
///         misdirect payments but never spend more than clients put in.
/// @dev The leaf format is the OpenZeppelin merkle-tree library's for (address, uint256), as in Rewards.
contract StorageDeals {
    bytes32 public constant STORAGE_SETTLEMENT_TYPEHASH = keccak256(
        "StorageSettlement(uint256 epoch,bytes32 root,uint256 total,bytes32 prevStateHash,bytes32 stateHash,bytes32 actionsHash)"
    );
    /// @notice Registry reason codes of the actions a settlement carries out.
    bytes32 public constant REASON_AUDITS = keccak256("STORAGE_AUDITS");
    bytes32 public constant REASON_LOSS = keccak256("STORAGE_LOSS");

    uint8 public constant ACTION_SUSPEND = 1;
    uint8 public constant ACTION_REINSTATE = 2;
    uint8 public constant ACTION_SLASH = 3;
    bytes32 public constant STORAGE_PRICE_GIB_EPOCH = keccak256("STORAGE_PRICE_GIB_EPOCH");
    bytes32 public constant STORAGE_PERM_DECLINE_BPS = keccak256("STORAGE_PERM_DECLINE_BPS");

    uint256 public constant GIB = 1 << 30;
    uint256 public constant SECONDS_PER_YEAR = 365 days;
    uint256 private constant WAD = 1e18;

    error EmptyRoot();
    error ZeroSize();
    error ZeroPieces();
    error BadTerms(uint32 durationEpochs, uint128 pricePerEpoch, bool permanent);
    error EscrowTooLarge(uint256 escrow);
    error UnknownDeal(uint256 dealId);
    error NotClient(uint256 dealId, address caller);
    error PermanentDeal(uint256 dealId);
    error DealEnded(uint256 dealId, uint256 endEpoch);
    error EpochNotClosed(uint256 epoch, uint256 current);
    error EpochAlreadyPaid(uint256 epoch, uint256 nextEpoch);
    /// @dev `amount` would leave the unallocated escrow (a root's total, or a refund); `available` =
    ///      escrowed − refunded − posted.
    error PaymentsExceedEscrow(uint256 amount, uint256 available);
    error InvalidProof(address account, uint256 cumulative);
    error NothingToClaim(address account, uint256 cumulative, uint256 claimed);
    error ClaimsExceedPayments(uint256 claimed, uint256 posted);
    error BadAction(uint256 index, uint8 kind);

    /// @notice What a settlement asks of the Registry for one node. `amount` is the slash (kind 3).
    struct NodeAction {
        address node;
        uint8 kind;
        uint256 amount;
    }

    /// @dev Three storage slots. `amount` is the price per epoch of a term deal and the endowment of a
    ///      permanent one. Terminating sets `durationEpochs` to the epochs served, so a term deal
    ///      always covers [startEpoch, startEpoch + durationEpochs).
    struct Deal {
        address client;
        uint64 startEpoch;
        uint32 durationEpochs;
        bytes32 root;
        uint128 amount;
        uint64 size;
        uint32 pieces;
        bool permanent;
        bool terminated;
    }

    /// @notice A deal as read from outside. `escrow` is what the deal put into the payment budget
    ///         (after termination: only the spent part); `endEpoch` is exclusive, max uint64 if permanent;
    ///         `pricePerEpoch` is 0 for permanent deals (paid at the network's current rate).
    struct DealView {
        address client;
        bytes32 root;
        uint64 size;
        uint32 pieces;
        uint64 startEpoch;
        uint64 endEpoch;
        uint128 pricePerEpoch;
        uint256 escrow;
        bool permanent;
        bool terminated;
    }

    Credits public immutable credits;
    Validators public immutable validators;
    Registry public immutable registry;
    Params public immutable params;
    uint256 public immutable genesis;
    uint256 public immutable epochLength;

    // slot: what clients put in and took back, and the last deal id (ids start at 1)
    uint96 public totalEscrowed;
    uint96 public totalRefunded;
    uint64 public dealCount;
    // slot: what the roots allocated and what was claimed, and the next epoch that may be paid
    uint96 public totalPosted;
    uint96 public totalClaimed;
    uint64 public nextEpoch;
    /// @notice The latest cumulative payments root.
    bytes32 public paymentsRoot;
    /// @notice The validators' storage state after the latest settlement (see the contract notice).
    bytes32 public stateHash;

    mapping(uint256 => Deal) private deals_;
    mapping(address => uint256) public claimed;

    event DealCreated(
        uint256 indexed dealId,
        address indexed client,
        bytes32 root,
        uint64 size,
        uint32 pieces,
        uint32 durationEpochs,
        uint128 pricePerEpoch,
        bool permanent,
        uint64 startEpoch,
        uint256 escrow
    );
    event DealTerminated(uint256 indexed dealId, address indexed client, uint64 endEpoch, uint256 refund);
    event PaymentsPosted(uint256 indexed epoch, bytes32 root, uint256 total, bytes32 stateHash);
    /// @dev An action the Registry refused (e.g. suspending a node that is exiting); the settlement stands.
    event ActionFailed(address indexed node, uint8 kind, bytes reason);
    event CreditsClaimed(address indexed account, uint256 amount, uint256 cumulative);

    constructor(Credits credits_, Validators validators_, Registry registry_, Params params_, Epochs epochs_) {
        credits = credits_;
        validators = validators_;
        registry = registry_;
        params = params_;
        genesis = epochs_.genesis();
        epochLength = epochs_.length();
    }

    /// @notice Creates a deal over `root` (the Merkle root of the file's piece ids) and escrows its
    ///         price from the caller's Credits. Term deals: `durationEpochs` and `pricePerEpoch` both
    ///         non-zero, escrow = their product. Permanent deals: both zero, escrow = `endowment(size)`.
    /// @param size bytes the network stores for the deal: the sum of its pieces' sizes.
    function createDeal(
        bytes32 root,
        uint64 size,
        uint32 pieces,
        uint32 durationEpochs,
        uint128 pricePerEpoch,
        bool permanent
    ) external returns (uint256 dealId) {
        if (root == bytes32(0)) revert EmptyRoot();
        if (size == 0) revert ZeroSize();
        if (pieces == 0) revert ZeroPieces();
        uint256 escrow;
        if (permanent) {
            if (durationEpochs != 0 || pricePerEpoch != 0) revert BadTerms(durationEpochs, pricePerEpoch, permanent);
            escrow = endowment(size);
        } else {
            if (durationEpochs == 0 || pricePerEpoch == 0) revert BadTerms(durationEpochs, pricePerEpoch, permanent);
            escrow = uint256(durationEpochs) * pricePerEpoch;
        }
        uint256 escrowed = totalEscrowed + escrow;
        if (escrowed > type(uint96).max) revert EscrowTooLarge(escrow);
        dealId = uint256(dealCount) + 1;
        totalEscrowed = uint96(escrowed);
        dealCount = uint64(dealId);
        uint64 start = uint64(currentEpoch());
        deals_[dealId] = Deal({
            client: msg.sender,
            startEpoch: start,
            durationEpochs: durationEpochs,
            root: root,
            amount: permanent ? uint128(escrow) : pricePerEpoch,
            size: size,
            pieces: pieces,
            permanent: permanent,
            terminated: false
        });
        credits.move(msg.sender, address(this), escrow);
        emit DealCreated(dealId, msg.sender, root, size, pieces, durationEpochs, pricePerEpoch, permanent, start, escrow);
    }

    /// @notice Ends the caller's term deal now and refunds the escrow of the epochs not yet begun:
    ///         `escrow − pricePerEpoch × (currentEpoch − startEpoch)`. The current epoch is not
    ///         charged and no longer served. Once per deal; never for permanent deals.
    function terminate(uint256 dealId) external returns (uint256 refund) {
        Deal storage d = deals_[dealId];
        address client = d.client;
        if (client == address(0)) revert UnknownDeal(dealId);
        if (client != msg.sender) revert NotClient(dealId, msg.sender);
        if (d.permanent) revert PermanentDeal(dealId);
        uint256 start = d.startEpoch;
        uint256 duration = d.durationEpochs;
        uint256 elapsed = currentEpoch() - start;
        if (d.terminated || elapsed >= duration) revert DealEnded(dealId, start + duration);
        refund = (duration - elapsed) * d.amount;
        // Only if validators over-posted could the refund reach escrow already allocated to nodes.
        uint256 available = unallocated();
        if (refund > available) revert PaymentsExceedEscrow(refund, available);
        totalRefunded += uint96(refund);
        d.durationEpochs = uint32(elapsed);
        d.terminated = true;
        credits.move(address(this), client, refund);
        emit DealTerminated(dealId, client, uint64(start + elapsed), refund);
    }

    /// @notice Settles a closed epoch, signed by a two-thirds stake quorum of validators over
    ///         `StorageSettlement(epoch, root, total, prevStateHash, stateHash,
    ///         keccak256(abi.encode(actions)))` with `prevStateHash` = the `stateHash` on chain now:
    ///         posts the cumulative payments root (`total` is what it adds to the previous root) and
    ///         carries out the node actions. Epochs strictly increase; a skipped epoch is paid by the
    ///         next settlement, which starts from the last settled state. A settlement signed over
    ///         another previous state fails the quorum check. An action the Registry refuses is
    ///         reported, not fatal.
    function settle(
        uint256 epoch,
        bytes32 root,
        uint256 total,
        bytes32 newStateHash,
        NodeAction[] calldata actions,
        bytes calldata signatures
    ) external {
        uint256 current = currentEpoch();
        if (epoch >= current) revert EpochNotClosed(epoch, current);
        uint256 next = nextEpoch;
        if (epoch < next) revert EpochAlreadyPaid(epoch, next);
        uint256 available = unallocated();
        if (total > available) revert PaymentsExceedEscrow(total, available);
        bytes32 structHash = keccak256(
            abi.encode(
                STORAGE_SETTLEMENT_TYPEHASH, epoch, root, total, stateHash, newStateHash, keccak256(abi.encode(actions))
            )
        );
        validators.verifyQuorum(structHash, signatures);
        paymentsRoot = root;
        stateHash = newStateHash;
        totalPosted += uint96(total);
        nextEpoch = uint64(epoch + 1);
        emit PaymentsPosted(epoch, root, total, newStateHash);
        for (uint256 i = 0; i < actions.length; i++) {
            NodeAction calldata a = actions[i];
            if (a.kind == ACTION_SUSPEND) {
                try registry.suspend(a.node, REASON_AUDITS) {} catch (bytes memory why) {
                    emit ActionFailed(a.node, a.kind, why);
                }
            } else if (a.kind == ACTION_REINSTATE) {
                try registry.reinstate(a.node) {} catch (bytes memory why) {
                    emit ActionFailed(a.node, a.kind, why);
                }
            } else if (a.kind == ACTION_SLASH) {
                try registry.slash(a.node, a.amount, REASON_LOSS) {} catch (bytes memory why) {
                    emit ActionFailed(a.node, a.kind, why);
                }
            } else {
                revert BadAction(i, a.kind);
            }
        }
    }

    /// @notice Pays `account` its cumulative storage earnings minus what it already claimed. Anyone may call.
    function claimCredits(address account, uint256 cumulative, bytes32[] calldata proof)
        external
        returns (uint256 amount)
    {
        bytes32 leaf = keccak256(bytes.concat(keccak256(abi.encode(account, cumulative))));
        if (!MerkleProof.verifyCalldata(proof, paymentsRoot, leaf)) revert InvalidProof(account, cumulative);
        uint256 already = claimed[account];
        if (cumulative <= already) revert NothingToClaim(account, cumulative, already);
        amount = cumulative - already;
        uint256 claimedAll = totalClaimed + amount;
        if (claimedAll > totalPosted) revert ClaimsExceedPayments(claimedAll, totalPosted);
        claimed[account] = cumulative;
        totalClaimed = uint96(claimedAll);
        credits.move(address(this), account, amount);
        emit CreditsClaimed(account, amount, cumulative);
    }

    /// @notice The endowment that pays for `size` bytes forever, in Credits:
    ///         `ceil(size / GiB × STORAGE_PRICE_GIB_EPOCH × epochsPerYear / −ln(1 − decline))` with
    ///         `epochsPerYear = 365 days / epochLength` and `decline = STORAGE_PERM_DECLINE_BPS / 10⁴`,
    ///         the yearly fall of storage cost assumed (Arweave assumes 0.5 %: about 200 years of the
    ///         first year's cost). One rounding, up, over the exact product; ln by `lnOneMinus`.
    function endowment(uint64 size) public view returns (uint256) {
        uint256 price = params.get(STORAGE_PRICE_GIB_EPOCH);
        uint256 ln = lnOneMinus(params.get(STORAGE_PERM_DECLINE_BPS));
        return Math.mulDiv(uint256(size) * price * SECONDS_PER_YEAR, WAD, GIB * epochLength * ln, Math.Rounding.Ceil);
    }

    /// @notice −ln(1 − bps/10⁴) in 18-decimal fixed point, by the series Σ xᵏ/k (x = bps/10⁴), each
    ///         power and quotient rounded down, summed until a term vanishes. Within ~1e-16 for the
    ///         governed range (bps ≤ 5000); slightly low, so the endowment errs high.
    function lnOneMinus(uint256 bps) public pure returns (uint256 sum) {
        uint256 x = (bps * WAD) / 10_000;
        uint256 power = x;
        for (uint256 k = 1; power != 0; k++) {
            sum += power / k;
            power = (power * x) / WAD;
        }
    }

    /// @notice A deal's terms and state; reverts `UnknownDeal` for an id never created.
    function deal(uint256 dealId) external view returns (DealView memory v) {
        Deal storage d = deals_[dealId];
        if (d.client == address(0)) revert UnknownDeal(dealId);
        v.client = d.client;
        v.root = d.root;
        v.size = d.size;
        v.pieces = d.pieces;
        v.startEpoch = d.startEpoch;
        v.permanent = d.permanent;
        v.terminated = d.terminated;
        if (d.permanent) {
            v.endEpoch = type(uint64).max;
            v.escrow = d.amount;
        } else {
            v.endEpoch = d.startEpoch + d.durationEpochs;
            v.pricePerEpoch = d.amount;
            v.escrow = uint256(d.amount) * d.durationEpochs;
        }
    }

    /// @notice The deal's root and whether the deal covers the current epoch (what Challenges needs).
    function dealRoot(uint256 dealId) external view returns (bytes32 root, bool active) {
        Deal storage d = deals_[dealId];
        root = d.root;
        uint256 now_ = currentEpoch();
        active = d.client != address(0) && (d.permanent || now_ < uint256(d.startEpoch) + d.durationEpochs);
    }

    /// @notice Escrow not yet allocated to nodes by a payments root: escrowed − refunded − posted.
    function unallocated() public view returns (uint256) {
        return uint256(totalEscrowed) - totalRefunded - totalPosted;
    }

    function currentEpoch() public view returns (uint256) {
        if (block.timestamp < genesis) return 0;
        return (block.timestamp - genesis) / epochLength;
    }
}
