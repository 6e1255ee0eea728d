// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {ERC20Burnable} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Burnable.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Params} from "./Params.sol";

/// @title Registry — operators' nodes and their stake
/// @notice One node per operator account. A node declares its services (bitmask: 1 storage,
///         2 compute, 4 ai, 8 wireless), the HTTP endpoint and signing key it serves with, its
///         capacity, prices, H3 location and region, and stakes at least the sum of its services'
///         minimum stakes. Stake leaves through an unbonding delay during which it can still be
///         slashed. Only authorised modules suspend or slash, and always with a reason code.
contract Registry is AccessControl {
    using SafeERC20 for IERC20;

    bytes32 public constant SLASHER_ROLE = keccak256("SLASHER_ROLE");
    bytes32 public constant SUSPENDER_ROLE = keccak256("SUSPENDER_ROLE");

    uint8 public constant STATUS_NONE = 0;
    uint8 public constant STATUS_ACTIVE = 1;
    uint8 public constant STATUS_SUSPENDED = 2;
    uint8 public constant STATUS_EXITING = 3;

    uint8 public constant ALL_SERVICES = 15;

    bytes32 public constant MIN_STAKE_STORAGE = keccak256("MIN_STAKE_STORAGE");
    bytes32 public constant MIN_STAKE_COMPUTE = keccak256("MIN_STAKE_COMPUTE");
    bytes32 public constant MIN_STAKE_AI = keccak256("MIN_STAKE_AI");
    bytes32 public constant MIN_STAKE_WIRELESS = keccak256("MIN_STAKE_WIRELESS");
    bytes32 public constant MIN_STAKE_BASE = keccak256("MIN_STAKE_BASE");
    bytes32 public constant UNBONDING_PERIOD = keccak256("UNBONDING_PERIOD");

    error AlreadyRegistered(address node);
    error NotRegistered(address node);
    error BadServices(uint8 services);
    error EmptyEndpoint();
    error ZeroSigner();
    error StakeTooLow(uint256 staked, uint256 required);
    error ZeroAmount();
    error NodeExiting(address node);
    error NotSuspended(address node);
    error StillUnbonding(uint256 until);
    error NothingToWithdraw();
    error MissingReason();

    struct Node {
        // slot 0
        address signer;
        uint8 services;
        uint8 status;
        // slot 1
        uint64 capacity;
        uint64 h3;
        bytes8 region;
        uint64 registeredAt;
        // slot 2
        uint128 stake;
        uint128 unbonding;
        // slot 3
        uint64 unbondingUntil;
        uint64[3] prices; // storage (credits per GiB per epoch), egress (credits per GiB), compute (credits per unit)
        string endpoint;
    }

    struct RegisterParams {
        address signer;
        uint8 services;
        uint64 capacity;
        uint64 h3;
        bytes8 region;
        uint64[3] prices;
        string endpoint;
    }

    IERC20 public immutable token;
    Params public immutable params;

    mapping(address => Node) private nodes_;
    address[] private nodeList;

    event NodeRegistered(address indexed node, address signer, uint8 services, string endpoint, uint256 stake);
    event NodeUpdated(address indexed node);
    event Staked(address indexed node, uint256 amount, uint256 total);
    event UnbondingStarted(address indexed node, uint256 amount, uint256 until);
    event Withdrawn(address indexed node, uint256 amount);
    event Suspended(address indexed node, bytes32 indexed reason);
    event Reinstated(address indexed node);
    event Slashed(address indexed node, uint256 amount, bytes32 indexed reason);
    event Exiting(address indexed node);

    constructor(address admin, IERC20 token_, Params params_) {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        token = token_;
        params = params_;
    }

    /// @notice Registers the caller's node and stakes `amount` (approve the Registry first).
    function register(RegisterParams calldata p, uint256 amount) external {
        Node storage n = nodes_[msg.sender];
        if (n.status != STATUS_NONE) revert AlreadyRegistered(msg.sender);
        _checkParams(p);
        uint256 required = requiredStake(p.services);
        if (amount < required) revert StakeTooLow(amount, required);
        n.signer = p.signer;
        n.services = p.services;
        n.status = STATUS_ACTIVE;
        n.capacity = p.capacity;
        n.h3 = p.h3;
        n.region = p.region;
        n.registeredAt = uint64(block.timestamp);
        n.stake = uint128(amount);
        n.prices = p.prices;
        n.endpoint = p.endpoint;
        nodeList.push(msg.sender);
        token.safeTransferFrom(msg.sender, address(this), amount);
        emit NodeRegistered(msg.sender, p.signer, p.services, p.endpoint, amount);
    }

    /// @notice Updates the caller's node description; the stake must cover the new services.
    function update(RegisterParams calldata p) external {
        Node storage n = _node(msg.sender);
        if (n.status == STATUS_EXITING) revert NodeExiting(msg.sender);
        _checkParams(p);
        uint256 required = requiredStake(p.services);
        if (n.stake < required) revert StakeTooLow(n.stake, required);
        n.signer = p.signer;
        n.services = p.services;
        n.capacity = p.capacity;
        n.h3 = p.h3;
        n.region = p.region;
        n.prices = p.prices;
        n.endpoint = p.endpoint;
        emit NodeUpdated(msg.sender);
    }

    /// @notice Adds stake to the caller's node.
    function stake(uint256 amount) external {
        if (amount == 0) revert ZeroAmount();
        Node storage n = _node(msg.sender);
        if (n.status == STATUS_EXITING) revert NodeExiting(msg.sender);
        uint256 total = n.stake + amount;
        n.stake = uint128(total);
        token.safeTransferFrom(msg.sender, address(this), amount);
        emit Staked(msg.sender, amount, total);
    }

    /// @notice Starts unbonding part of the stake; what remains must still cover the services.
    function unstake(uint256 amount) external {
        if (amount == 0) revert ZeroAmount();
        Node storage n = _node(msg.sender);
        if (n.status == STATUS_EXITING) revert NodeExiting(msg.sender);
        uint256 required = requiredStake(n.services);
        if (n.stake < amount || n.stake - amount < required) revert StakeTooLow(n.stake - (n.stake < amount ? n.stake : amount), required);
        n.stake -= uint128(amount);
        _startUnbonding(n, amount);
    }

    /// @notice Leaves the network: the whole stake starts unbonding and the node stops being active.
    function exit() external {
        Node storage n = _node(msg.sender);
        if (n.status == STATUS_EXITING) revert NodeExiting(msg.sender);
        uint256 amount = n.stake;
        n.stake = 0;
        n.status = STATUS_EXITING;
        emit Exiting(msg.sender);
        _startUnbonding(n, amount);
    }

    /// @notice Withdraws stake whose unbonding delay has passed.
    function withdraw() external {
        Node storage n = _node(msg.sender);
        uint256 amount = n.unbonding;
        if (amount == 0) revert NothingToWithdraw();
        if (block.timestamp < n.unbondingUntil) revert StillUnbonding(n.unbondingUntil);
        n.unbonding = 0;
        token.safeTransfer(msg.sender, amount);
        emit Withdrawn(msg.sender, amount);
    }

    /// @notice Suspends a node (authorised modules only), with a reason code.
    function suspend(address node, bytes32 reason) external onlyRole(SUSPENDER_ROLE) {
        if (reason == bytes32(0)) revert MissingReason();
        Node storage n = _node(node);
        if (n.status == STATUS_EXITING) revert NodeExiting(node);
        n.status = STATUS_SUSPENDED;
        emit Suspended(node, reason);
    }

    /// @notice Lifts a suspension (authorised modules only), e.g. after the node passes audits again.
    function reinstate(address node) external onlyRole(SUSPENDER_ROLE) {
        Node storage n = _node(node);
        if (n.status != STATUS_SUSPENDED) revert NotSuspended(node);
        n.status = STATUS_ACTIVE;
        emit Reinstated(node);
    }

    /// @notice Slashes up to `amount` from the stake, then from unbonding funds, and burns it.
    /// @return slashed what was actually taken.
    function slash(address node, uint256 amount, bytes32 reason) external onlyRole(SLASHER_ROLE) returns (uint256 slashed) {
        if (reason == bytes32(0)) revert MissingReason();
        Node storage n = _node(node);
        uint256 fromStake = amount < n.stake ? amount : n.stake;
        n.stake -= uint128(fromStake);
        uint256 rest = amount - fromStake;
        uint256 fromUnbonding = rest < n.unbonding ? rest : n.unbonding;
        n.unbonding -= uint128(fromUnbonding);
        slashed = fromStake + fromUnbonding;
        if (slashed > 0) ERC20Burnable(address(token)).burn(slashed);
        emit Slashed(node, slashed, reason);
    }

    /// @notice The stake a node offering `services` must hold: base plus each service's minimum.
    function requiredStake(uint8 services) public view returns (uint256 required) {
        required = params.get(MIN_STAKE_BASE);
        if (services & 1 != 0) required += params.get(MIN_STAKE_STORAGE);
        if (services & 2 != 0) required += params.get(MIN_STAKE_COMPUTE);
        if (services & 4 != 0) required += params.get(MIN_STAKE_AI);
        if (services & 8 != 0) required += params.get(MIN_STAKE_WIRELESS);
    }

    function getNode(address node) external view returns (Node memory) {
        return nodes_[node];
    }

    function isActive(address node) external view returns (bool) {
        return nodes_[node].status == STATUS_ACTIVE;
    }

    function nodeCount() external view returns (uint256) {
        return nodeList.length;
    }

    /// @notice A page of registered nodes, in registration order.
    function listNodes(uint256 offset, uint256 limit) external view returns (address[] memory ids, Node[] memory out) {
        uint256 end = offset + limit;
        if (end > nodeList.length) end = nodeList.length;
        uint256 count = end > offset ? end - offset : 0;
        ids = new address[](count);
        out = new Node[](count);
        for (uint256 i = 0; i < count; i++) {
            ids[i] = nodeList[offset + i];
            out[i] = nodes_[ids[i]];
        }
    }

    function _startUnbonding(Node storage n, uint256 amount) private {
        uint256 until = block.timestamp + params.get(UNBONDING_PERIOD);
        n.unbonding += uint128(amount);
        n.unbondingUntil = uint64(until);
        emit UnbondingStarted(msg.sender, amount, until);
    }

    function _node(address node) private view returns (Node storage n) {
        n = nodes_[node];
        if (n.status == STATUS_NONE) revert NotRegistered(node);
    }

    function _checkParams(RegisterParams calldata p) private pure {
        if (p.services == 0 || p.services > ALL_SERVICES) revert BadServices(p.services);
        if (bytes(p.endpoint).length == 0) revert EmptyEndpoint();
        if (p.signer == address(0)) revert ZeroSigner();
    }
}
