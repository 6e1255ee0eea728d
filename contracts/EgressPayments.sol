// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {Credits} from "./Credits.sol";
import {Params} from "./Params.sol";

/// @title EgressPayments — clients pay nodes for bytes served with cumulative signed vouchers
/// @notice A unidirectional payment channel per (client, node), as Filecoin retrieval vouchers and
///         Helium data credits: the client deposits Credits once, then signs off-chain
///         `EgressVoucher(client, node, cumulative)` — all Credits it owes that node so far — with each
///         download. The node (or anyone) redeems the latest voucher whenever it likes; it is paid the
///         cumulative minus what this pair already redeemed, capped at the client's deposit (a short
///         deposit pays what is there and the rest stays redeemable). A voucher needs no nonce or
///         expiry: it only ever raises a cumulative total, so replaying one pays nothing twice, and it
///         names the node, so it pays no other. The client takes its deposit back in two steps,
///         `requestWithdrawal` then `withdraw` after `EGRESS_WITHDRAW_DELAY` seconds, so nodes have
///         time to redeem what they hold.
/// @dev EIP-712 domain: name "depin egress", version "1", the chain id, this contract. Signatures go
///      through OpenZeppelin `SignatureChecker`, so contract wallets (ERC-1271) may be clients.
contract EgressPayments is EIP712 {
    bytes32 public constant EGRESS_VOUCHER_TYPEHASH =
        keccak256("EgressVoucher(address client,address node,uint256 cumulative)");
    bytes32 public constant EGRESS_WITHDRAW_DELAY = keccak256("EGRESS_WITHDRAW_DELAY");

    error ZeroAmount();
    error DepositTooLarge(uint256 amount);
    error NoDeposit(address client);
    error WithdrawalPending(address client, uint256 unlockAt);
    error WithdrawalNotRequested(address client);
    error WithdrawalLocked(address client, uint256 unlockAt, uint256 now_);
    error InsufficientDeposit(address client, uint256 balance, uint256 amount);
    error InvalidVoucher(address client, address node, uint256 cumulative);
    error NothingToRedeem(address client, address node, uint256 cumulative, uint256 redeemed);
    error DepositEmpty(address client, address node, uint256 due);

    /// @dev One slot per client. `unlockAt` is 0 while no withdrawal is requested.
    struct Account {
        uint128 balance;
        uint64 unlockAt;
    }

    Credits public immutable credits;
    Params public immutable params;

    mapping(address => Account) public accounts;
    /// @notice Credits paid so far from `client` to `node` (what its vouchers' cumulative is measured against).
    mapping(address client => mapping(address node => uint256)) public redeemed;

    event Deposited(address indexed client, uint256 amount, uint256 balance);
    event WithdrawalRequested(address indexed client, uint256 unlockAt);
    event Withdrawn(address indexed client, uint256 amount, uint256 balance);
    /// @param short what the voucher still owes after this payment (0 unless the deposit ran out).
    event Redeemed(address indexed client, address indexed node, uint256 cumulative, uint256 paid, uint256 short);

    constructor(Credits credits_, Params params_) EIP712("depin egress", "1") {
        credits = credits_;
        params = params_;
    }

    /// @notice Moves `amount` of the caller's Credits into its egress deposit.
    function deposit(uint256 amount) external {
        if (amount == 0) revert ZeroAmount();
        Account storage a = accounts[msg.sender];
        uint256 balance = a.balance + amount;
        if (balance > type(uint128).max) revert DepositTooLarge(amount);
        a.balance = uint128(balance);
        credits.move(msg.sender, address(this), amount);
        emit Deposited(msg.sender, amount, balance);
    }

    /// @notice Starts the withdrawal delay; `withdraw` is possible from `now + EGRESS_WITHDRAW_DELAY`.
    ///         Nodes see `WithdrawalRequested` and redeem what they hold before then.
    function requestWithdrawal() external returns (uint256 unlockAt) {
        Account storage a = accounts[msg.sender];
        if (a.balance == 0) revert NoDeposit(msg.sender);
        if (a.unlockAt != 0) revert WithdrawalPending(msg.sender, a.unlockAt);
        unlockAt = block.timestamp + params.get(EGRESS_WITHDRAW_DELAY);
        a.unlockAt = uint64(unlockAt);
        emit WithdrawalRequested(msg.sender, unlockAt);
    }

    /// @notice After the delay, returns `amount` of the deposit to the caller and ends the request
    ///         (a later withdrawal needs a new request and delay).
    function withdraw(uint256 amount) external {
        if (amount == 0) revert ZeroAmount();
        Account storage a = accounts[msg.sender];
        uint256 unlockAt = a.unlockAt;
        if (unlockAt == 0) revert WithdrawalNotRequested(msg.sender);
        if (block.timestamp < unlockAt) revert WithdrawalLocked(msg.sender, unlockAt, block.timestamp);
        uint256 balance = a.balance;
        if (amount > balance) revert InsufficientDeposit(msg.sender, balance, amount);
        a.balance = uint128(balance - amount);
        a.unlockAt = 0;
        credits.move(address(this), msg.sender, amount);
        emit Withdrawn(msg.sender, amount, balance - amount);
    }

    /// @notice Pays `node` what `client`'s voucher for `cumulative` adds to what the pair already
    ///         redeemed, up to the client's deposit. Anyone may call; only the node is ever paid.
    /// @return paid the Credits moved to `node` now.
    function redeem(address client, address node, uint256 cumulative, bytes calldata signature)
        external
        returns (uint256 paid)
    {
        uint256 already = redeemed[client][node];
        if (cumulative <= already) revert NothingToRedeem(client, node, cumulative, already);
        bytes32 digest = _hashTypedDataV4(keccak256(abi.encode(EGRESS_VOUCHER_TYPEHASH, client, node, cumulative)));
        if (!SignatureChecker.isValidSignatureNow(client, digest, signature)) {
            revert InvalidVoucher(client, node, cumulative);
        }
        uint256 due = cumulative - already;
        Account storage a = accounts[client];
        uint256 balance = a.balance;
        if (balance == 0) revert DepositEmpty(client, node, due);
        paid = due < balance ? due : balance;
        a.balance = uint128(balance - paid);
        redeemed[client][node] = already + paid;
        credits.move(address(this), node, paid);
        emit Redeemed(client, node, cumulative, paid, due - paid);
    }

    /// @notice The voucher digest a client signs (EIP-712), for off-chain checks.
    function voucherDigest(address client, address node, uint256 cumulative) external view returns (bytes32) {
        return _hashTypedDataV4(keccak256(abi.encode(EGRESS_VOUCHER_TYPEHASH, client, node, cumulative)));
    }
}
