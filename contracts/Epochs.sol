// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

/// @title Epochs — the epoch clock and each epoch's randomness
/// @notice Epoch e covers [genesis + e·length, genesis + (e+1)·length). Its randomness is fixed once,
///         by anyone, after the epoch has begun: a hash chain over the previous epoch's value and the
///         block's prevrandao (devnet). A production deployment replaces the source (e.g. drand) behind
///         the same `randomness(epoch)` view.
contract Epochs {
    error EpochNotStarted(uint256 epoch, uint256 current);
    error RandomnessAlreadySet(uint256 epoch);
    error RandomnessNotSet(uint256 epoch);

    uint256 public immutable genesis;
    uint256 public immutable length;

    mapping(uint256 => bytes32) private seeds;

    event EpochOpened(uint256 indexed epoch, bytes32 randomness);

    constructor(uint256 genesis_, uint256 length_) {
        genesis = genesis_;
        length = length_;
    }

    /// @notice The current epoch number (0 before and during the first epoch).
    function current() public view returns (uint256) {
        if (block.timestamp < genesis) return 0;
        return (block.timestamp - genesis) / length;
    }

    /// @notice Start time of `epoch`.
    function startOf(uint256 epoch) external view returns (uint256) {
        return genesis + epoch * length;
    }

    /// @notice Fixes the randomness of an epoch that has begun. Idempotent callers check `isOpen` first.
    function open(uint256 epoch) external returns (bytes32 seed) {
        uint256 now_ = current();
        if (epoch > now_) revert EpochNotStarted(epoch, now_);
        if (seeds[epoch] != bytes32(0)) revert RandomnessAlreadySet(epoch);
        bytes32 previous = epoch == 0 ? bytes32(0) : seeds[epoch - 1];
        seed = keccak256(abi.encode(previous, block.prevrandao, blockhash(block.number - 1), epoch));
        seeds[epoch] = seed;
        emit EpochOpened(epoch, seed);
    }

    function isOpen(uint256 epoch) external view returns (bool) {
        return seeds[epoch] != bytes32(0);
    }

    function randomness(uint256 epoch) external view returns (bytes32 seed) {
        seed = seeds[epoch];
        if (seed == bytes32(0)) revert RandomnessNotSet(epoch);
    }
}
