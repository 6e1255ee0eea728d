// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";

/// @title IPriceOracle — a USD price feed for the token
/// @notice price and confidence in USD with 8 decimals (Chainlink/Pyth style); `price` should be an
///         EMA, `confidence` its uncertainty (e.g. 2σ), `updatedAt` the feed's timestamp.
interface IPriceOracle {
    function latest() external view returns (uint256 price, uint256 confidence, uint256 updatedAt);
}

/// @title DevPriceFeed — a settable feed for the devnet and tests
/// @notice Stands in for a real feed (Pyth, Chainlink) behind the same interface. Production
///         deployments point Credits at a real one.
contract DevPriceFeed is IPriceOracle, Ownable {
    uint256 private price_;
    uint256 private confidence_;
    uint256 private updatedAt_;

    event PriceSet(uint256 price, uint256 confidence, uint256 updatedAt);

    constructor(address owner_, uint256 price, uint256 confidence) Ownable(owner_) {
        _set(price, confidence, block.timestamp);
    }

    function set(uint256 price, uint256 confidence) external onlyOwner {
        _set(price, confidence, block.timestamp);
    }

    /// @notice Sets a price with an explicit timestamp (tests of staleness).
    function setAt(uint256 price, uint256 confidence, uint256 updatedAt) external onlyOwner {
        _set(price, confidence, updatedAt);
    }

    function latest() external view returns (uint256, uint256, uint256) {
        return (price_, confidence_, updatedAt_);
    }

    function _set(uint256 price, uint256 confidence, uint256 updatedAt) private {
        price_ = price;
        confidence_ = confidence;
        updatedAt_ = updatedAt;
        emit PriceSet(price, confidence, updatedAt);
    }
}
