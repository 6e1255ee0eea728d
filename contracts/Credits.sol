// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {Params} from "./Params.sol";
import {IPriceOracle} from "./PriceOracle.sol";
import {Token} from "./Token.sol";

/// @title Credits — non-transferable, USD-pegged units that pay for service (burn-and-mint)
/// @notice 1 credit = $0.00001 (Helium's Data Credit). Users mint credits by burning Token at a
///         conservative price (feed price minus its confidence, refusing stale prices); markets
///         (MARKET_ROLE) move credits into escrow and out to operators; holders redeem earned credits
///         for newly minted Token at price plus confidence, under a daily circuit breaker.
contract Credits is AccessControl {
    bytes32 public constant MARKET_ROLE = keccak256("MARKET_ROLE");
    bytes32 public constant CREDITS_MAX_PRICE_AGE = keccak256("CREDITS_MAX_PRICE_AGE");
    bytes32 public constant CREDITS_REDEEM_DAILY_CAP = keccak256("CREDITS_REDEEM_DAILY_CAP");

    /// @dev tokens (18 decimals) × price (8 decimals) / 1e21 = credits of $0.00001.
    uint256 private constant SCALE = 1e21;

    error StalePrice(uint256 updatedAt, uint256 maxAge);
    error PriceUnusable(uint256 price, uint256 confidence);
    error Slippage(uint256 got, uint256 minimum);
    error InsufficientCredits(address account, uint256 balance, uint256 needed);
    error RedeemCircuitBreaker(uint256 requested, uint256 remainingToday);
    error ZeroAmount();
    error NonTransferable();

    Token public immutable token;
    IPriceOracle public immutable oracle;
    Params public immutable params;

    string public constant name = "depin credits";
    string public constant symbol = "DC";
    uint8 public constant decimals = 0;
    uint256 public totalSupply;
    mapping(address => uint256) public balanceOf;
    /// @notice Tokens minted by redemption per UTC day (block.timestamp / 1 days).
    mapping(uint256 => uint256) public redeemedOnDay;

    event Transfer(address indexed from, address indexed to, uint256 value);
    event CreditsMinted(address indexed payer, address indexed to, uint256 tokensBurned, uint256 credits);
    event CreditsRedeemed(address indexed holder, address indexed to, uint256 credits, uint256 tokensMinted);

    constructor(address admin, Token token_, IPriceOracle oracle_, Params params_) {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        token = token_;
        oracle = oracle_;
        params = params_;
    }

    /// @notice Burns `tokenAmount` of the caller's Token (approve this contract first) and mints credits to `to`.
    function mint(address to, uint256 tokenAmount, uint256 minCredits) external returns (uint256 credits) {
        if (tokenAmount == 0) revert ZeroAmount();
        (uint256 price, uint256 confidence) = _price();
        if (confidence >= price) revert PriceUnusable(price, confidence);
        credits = (tokenAmount * (price - confidence)) / SCALE;
        if (credits < minCredits || credits == 0) revert Slippage(credits, minCredits);
        token.burnFrom(msg.sender, tokenAmount);
        totalSupply += credits;
        balanceOf[to] += credits;
        emit Transfer(address(0), to, credits);
        emit CreditsMinted(msg.sender, to, tokenAmount, credits);
    }

    /// @notice Burns the caller's credits and mints Token to `to` at price plus confidence.
    function redeem(uint256 credits, address to, uint256 minTokens) external returns (uint256 tokens) {
        if (credits == 0) revert ZeroAmount();
        uint256 balance = balanceOf[msg.sender];
        if (balance < credits) revert InsufficientCredits(msg.sender, balance, credits);
        (uint256 price, uint256 confidence) = _price();
        tokens = (credits * SCALE) / (price + confidence);
        if (tokens < minTokens || tokens == 0) revert Slippage(tokens, minTokens);
        uint256 day = block.timestamp / 1 days;
        uint256 cap = params.get(CREDITS_REDEEM_DAILY_CAP);
        uint256 used = redeemedOnDay[day];
        if (used + tokens > cap) revert RedeemCircuitBreaker(tokens, cap > used ? cap - used : 0);
        redeemedOnDay[day] = used + tokens;
        balanceOf[msg.sender] = balance - credits;
        totalSupply -= credits;
        emit Transfer(msg.sender, address(0), credits);
        token.mint(to, tokens);
        emit CreditsRedeemed(msg.sender, to, credits, tokens);
    }

    /// @notice Moves credits between accounts: markets only (escrow in, payment out).
    function move(address from, address to, uint256 amount) external onlyRole(MARKET_ROLE) {
        uint256 balance = balanceOf[from];
        if (balance < amount) revert InsufficientCredits(from, balance, amount);
        balanceOf[from] = balance - amount;
        balanceOf[to] += amount;
        emit Transfer(from, to, amount);
    }

    /// @notice Credits cannot be transferred by holders.
    function transfer(address, uint256) external pure returns (bool) {
        revert NonTransferable();
    }

    /// @notice Credits a given token amount buys now (what `mint` would give).
    function quoteMint(uint256 tokenAmount) external view returns (uint256) {
        (uint256 price, uint256 confidence) = _price();
        if (confidence >= price) revert PriceUnusable(price, confidence);
        return (tokenAmount * (price - confidence)) / SCALE;
    }

    function _price() private view returns (uint256 price, uint256 confidence) {
        uint256 updatedAt;
        (price, confidence, updatedAt) = oracle.latest();
        uint256 maxAge = params.get(CREDITS_MAX_PRICE_AGE);
        if (updatedAt + maxAge < block.timestamp || updatedAt > block.timestamp) revert StalePrice(updatedAt, maxAge);
        if (price == 0) revert PriceUnusable(price, confidence);
    }
}
