// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {ERC20Burnable} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Burnable.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {Params} from "./Params.sol";

/// @title Validators — the staked validator set and its quorum
/// @notice Validators stake to join. An epoch's result is the EIP-712 struct
///         EpochRoot(epoch, rewardsRoot, evidenceRoot, total); it is accepted when validators holding at
///         least two thirds of the active stake signed it. Anyone holding two different EpochRoots for
///         one epoch signed by the same validator proves equivocation: the validator is removed and
///         slashed, and the prover is paid part of the slash. Markets ask the same quorum about their
///         own EIP-712 structs under this domain with `verifyQuorum` (e.g. StorageDeals' payments).
contract Validators is EIP712 {
    using SafeERC20 for IERC20;

    bytes32 public constant EPOCH_ROOT_TYPEHASH =
        keccak256("EpochRoot(uint256 epoch,bytes32 rewardsRoot,bytes32 evidenceRoot,uint256 total)");

    bytes32 public constant MIN_STAKE_VALIDATOR = keccak256("MIN_STAKE_VALIDATOR");
    bytes32 public constant UNBONDING_PERIOD = keccak256("UNBONDING_PERIOD");
    bytes32 public constant SLASH_EQUIVOCATION_BPS = keccak256("SLASH_EQUIVOCATION_BPS");
    bytes32 public constant REPORTER_REWARD_BPS = keccak256("REPORTER_REWARD_BPS");

    uint8 public constant STATUS_NONE = 0;
    uint8 public constant STATUS_ACTIVE = 1;
    uint8 public constant STATUS_EXITING = 2;
    uint8 public constant STATUS_REMOVED = 3;

    error AlreadyValidator(address validator);
    error NotValidator(address validator);
    error StakeTooLow(uint256 staked, uint256 required);
    error EmptyEndpoint();
    error BadSignatureLength(uint256 length);
    error InvalidSignature(uint256 index);
    error SignersNotSorted(uint256 index);
    error NotActiveValidator(address signer);
    error NoQuorum(uint256 signedStake, uint256 totalStake);
    error NotEquivocation();
    error StillUnbonding(uint256 until);
    error NothingToWithdraw();

    struct Validator {
        uint128 stake;
        uint64 unbondingUntil;
        uint8 status;
        uint128 unbonding;
        string endpoint;
    }

    IERC20 public immutable token;
    Params public immutable params;

    uint256 public totalStake;
    mapping(address => Validator) private validators_;
    address[] private list;

    event ValidatorJoined(address indexed validator, uint256 stake, string endpoint);
    event ValidatorEndpoint(address indexed validator, string endpoint);
    event ValidatorExiting(address indexed validator, uint256 until);
    event ValidatorWithdrawn(address indexed validator, uint256 amount);
    event Equivocation(address indexed validator, uint256 indexed epoch, uint256 slashed, address reporter);

    constructor(IERC20 token_, Params params_) EIP712("depin", "1") {
        token = token_;
        params = params_;
    }

    /// @notice Joins the set with `amount` of stake (approve first) and an HTTP endpoint for evidence exchange.
    function join(uint256 amount, string calldata endpoint) external {
        Validator storage v = validators_[msg.sender];
        if (v.status != STATUS_NONE) revert AlreadyValidator(msg.sender);
        if (bytes(endpoint).length == 0) revert EmptyEndpoint();
        uint256 required = params.get(MIN_STAKE_VALIDATOR);
        if (amount < required) revert StakeTooLow(amount, required);
        v.stake = uint128(amount);
        v.status = STATUS_ACTIVE;
        v.endpoint = endpoint;
        totalStake += amount;
        list.push(msg.sender);
        token.safeTransferFrom(msg.sender, address(this), amount);
        emit ValidatorJoined(msg.sender, amount, endpoint);
    }

    /// @notice Moves the caller's evidence-exchange endpoint (a validator that changed address).
    function setEndpoint(string calldata endpoint) external {
        Validator storage v = validators_[msg.sender];
        if (v.status != STATUS_ACTIVE) revert NotValidator(msg.sender);
        if (bytes(endpoint).length == 0) revert EmptyEndpoint();
        v.endpoint = endpoint;
        emit ValidatorEndpoint(msg.sender, endpoint);
    }

    /// @notice Leaves the set; the stake unbonds (and stays slashable) for the unbonding period.
    function exit() external {
        Validator storage v = validators_[msg.sender];
        if (v.status != STATUS_ACTIVE) revert NotValidator(msg.sender);
        _retire(v, STATUS_EXITING);
        emit ValidatorExiting(msg.sender, v.unbondingUntil);
    }

    function withdraw() external {
        Validator storage v = validators_[msg.sender];
        uint256 amount = v.unbonding;
        if (amount == 0) revert NothingToWithdraw();
        if (block.timestamp < v.unbondingUntil) revert StillUnbonding(v.unbondingUntil);
        v.unbonding = 0;
        token.safeTransfer(msg.sender, amount);
        emit ValidatorWithdrawn(msg.sender, amount);
    }

    /// @notice The EIP-712 digest validators sign for an epoch's result.
    function epochRootDigest(uint256 epoch, bytes32 rewardsRoot, bytes32 evidenceRoot, uint256 total)
        public
        view
        returns (bytes32)
    {
        return _hashTypedDataV4(keccak256(abi.encode(EPOCH_ROOT_TYPEHASH, epoch, rewardsRoot, evidenceRoot, total)));
    }

    /// @notice Checks that `signatures` (65-byte r,s,v each, signers in ascending address order) come
    ///         from active validators holding at least two thirds of the active stake. Reverts otherwise.
    /// @return signedStake the stake behind the signatures.
    function verifyEpochRoot(
        uint256 epoch,
        bytes32 rewardsRoot,
        bytes32 evidenceRoot,
        uint256 total,
        bytes calldata signatures
    ) external view returns (uint256 signedStake) {
        return _verifyQuorum(epochRootDigest(epoch, rewardsRoot, evidenceRoot, total), signatures);
    }

    /// @notice The quorum rule of `verifyEpochRoot` over any EIP-712 struct under this contract's
    ///         domain ("depin", "1", chain id, this address). The caller owns the struct type: a market
    ///         hashes its own struct (e.g. StoragePayments) and asks whether the quorum signed it.
    /// @param structHash `hashStruct(message)`, i.e. keccak256(abi.encode(TYPEHASH, fields...)).
    /// @return signedStake the stake behind the signatures.
    function verifyQuorum(bytes32 structHash, bytes calldata signatures) external view returns (uint256 signedStake) {
        return _verifyQuorum(_hashTypedDataV4(structHash), signatures);
    }

    /// @notice Proves that one validator signed two different results for the same epoch. Anyone may
    ///         call; the validator is removed and slashed, the caller is paid a share of the slash.
    function proveEquivocation(
        uint256 epoch,
        bytes32[2] calldata rewardsRoots,
        bytes32[2] calldata evidenceRoots,
        uint256[2] calldata totals,
        bytes calldata signatureA,
        bytes calldata signatureB
    ) external returns (address validator, uint256 slashed) {
        if (
            rewardsRoots[0] == rewardsRoots[1] && evidenceRoots[0] == evidenceRoots[1] && totals[0] == totals[1]
        ) revert NotEquivocation();
        if (signatureA.length != 65) revert BadSignatureLength(signatureA.length);
        if (signatureB.length != 65) revert BadSignatureLength(signatureB.length);
        validator = _recover(epochRootDigest(epoch, rewardsRoots[0], evidenceRoots[0], totals[0]), signatureA, 0);
        address other = _recover(epochRootDigest(epoch, rewardsRoots[1], evidenceRoots[1], totals[1]), signatureB, 1);
        if (validator != other) revert NotEquivocation();
        Validator storage v = validators_[validator];
        if (v.status == STATUS_NONE || v.status == STATUS_REMOVED) revert NotValidator(validator);
        if (v.status == STATUS_ACTIVE) _retire(v, STATUS_REMOVED);
        else v.status = STATUS_REMOVED;
        slashed = (uint256(v.unbonding) * params.get(SLASH_EQUIVOCATION_BPS)) / 10_000;
        v.unbonding -= uint128(slashed);
        uint256 reward = (slashed * params.get(REPORTER_REWARD_BPS)) / 10_000;
        if (reward > 0) token.safeTransfer(msg.sender, reward);
        if (slashed > reward) ERC20Burnable(address(token)).burn(slashed - reward);
        emit Equivocation(validator, epoch, slashed, msg.sender);
    }

    function getValidator(address validator) external view returns (Validator memory) {
        return validators_[validator];
    }

    function validatorCount() external view returns (uint256) {
        return list.length;
    }

    /// @notice Every validator ever joined, with its record (the set is small by design).
    function listValidators() external view returns (address[] memory ids, Validator[] memory out) {
        ids = list;
        out = new Validator[](ids.length);
        for (uint256 i = 0; i < ids.length; i++) {
            out[i] = validators_[ids[i]];
        }
    }

    function domainSeparator() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    function _retire(Validator storage v, uint8 status) private {
        uint256 amount = v.stake;
        totalStake -= amount;
        v.stake = 0;
        v.unbonding += uint128(amount);
        v.unbondingUntil = uint64(block.timestamp + params.get(UNBONDING_PERIOD));
        v.status = status;
    }

    function _verifyQuorum(bytes32 digest, bytes calldata signatures) private view returns (uint256 signedStake) {
        uint256 len = signatures.length;
        if (len == 0 || len % 65 != 0) revert BadSignatureLength(len);
        address previous = address(0);
        for (uint256 off = 0; off < len; off += 65) {
            address signer = _recover(digest, signatures[off:off + 65], off / 65);
            if (signer <= previous) revert SignersNotSorted(off / 65);
            previous = signer;
            Validator storage v = validators_[signer];
            if (v.status != STATUS_ACTIVE) revert NotActiveValidator(signer);
            signedStake += v.stake;
        }
        uint256 all = totalStake;
        if (signedStake * 3 < all * 2) revert NoQuorum(signedStake, all);
    }

    /// @dev ecrecover with the malleability and length checks of OpenZeppelin's ECDSA, on calldata.
    function _recover(bytes32 digest, bytes calldata sig, uint256 index) private pure returns (address signer) {
        bytes32 r;
        bytes32 s;
        uint8 v;
        assembly ("memory-safe") {
            r := calldataload(sig.offset)
            s := calldataload(add(sig.offset, 32))
            v := byte(0, calldataload(add(sig.offset, 64)))
        }
        if (uint256(s) > 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0) revert InvalidSignature(index);
        if (v < 27) v += 27;
        signer = ecrecover(digest, v, r, s);
        if (signer == address(0)) revert InvalidSignature(index);
    }
}
