// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";

/// @title Params — the governed parameters of the network
/// @notice A key/value store of uint256 parameters owned by the Timelock (itself driven by the Governor).
///         Every contract reads its tunables here, so one proposal can change any of them.
/// @dev Keys are keccak256 of an upper-case name, e.g. keccak256("REWARDS_BREAKER_MULTIPLIER").
contract Params is Ownable {
    error UnknownParam(bytes32 key);
    error ParamOutOfRange(bytes32 key, uint256 value, uint256 min, uint256 max);

    struct Bounds {
        uint128 min;
        uint128 max;
        bool known;
    }

    mapping(bytes32 => uint256) private values;
    mapping(bytes32 => Bounds) public bounds;

    event ParamSet(bytes32 indexed key, uint256 value);
    event ParamDeclared(bytes32 indexed key, uint256 value, uint256 min, uint256 max);

    constructor(address owner_) Ownable(owner_) {}

    /// @notice Declares a parameter with its bounds and initial value (owner only).
    function declare(bytes32 key, uint256 value, uint128 min, uint128 max) external onlyOwner {
        bounds[key] = Bounds(min, max, true);
        _set(key, value);
        emit ParamDeclared(key, value, min, max);
    }

    /// @notice Changes a declared parameter within its bounds (owner only: the Timelock).
    function set(bytes32 key, uint256 value) external onlyOwner {
        _set(key, value);
    }

    /// @notice Reads a declared parameter.
    function get(bytes32 key) external view returns (uint256) {
        if (!bounds[key].known) revert UnknownParam(key);
        return values[key];
    }

    function _set(bytes32 key, uint256 value) private {
        Bounds memory b = bounds[key];
        if (!b.known) revert UnknownParam(key);
        if (value < b.min || value > b.max) revert ParamOutOfRange(key, value, b.min, b.max);
        values[key] = value;
        emit ParamSet(key, value);
    }
}
