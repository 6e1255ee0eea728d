// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {Params} from "./Params.sol";
import {Registry} from "./Registry.sol";
import {StorageDeals} from "./StorageDeals.sol";
import {Token} from "./Token.sol";

/// @title Challenges — the on-chain fallback for proof of storage
/// @notice Anyone who distrusts the validators can force a node to prove, on chain, that it holds a
///         piece. The challenger shows (1) that the piece id is in an active deal's root and (2) the
///         node's own EIP-712 `PieceReceipt` for the piece (so a node is only ever challenged on what
///         it accepted), names a chunk, and deposits CHALLENGE_DEPOSIT Token. The node then has
///         CHALLENGE_WINDOW seconds to post the 1 KiB chunk with its Merkle proof against the piece
///         root: a valid answer earns it the deposit (challenging honest nodes costs money). Without
///         one, anyone may `expire` the challenge: the node is slashed SLASH_LOST_PIECE (reason
///         LOST_PIECE), the challenger gets the deposit back plus CHALLENGE_REWARD_BPS of the slash.
/// @dev Formats (docs/storage.md): a deal root is an OpenZeppelin StandardMerkleTree over
///      `[pieceId]` with encoding `bytes32`, so leaf = keccak256(keccak256(abi.encode(pieceId)));
///      a piece root is a sorted-pair keccak tree over sha256(uint32 chunkIndex ‖ 1024-byte chunk),
///      the last chunk zero-padded. Receipts are signed under the HTTP messages' domain ("depin", "1",
///      chain id, verifyingContract = Registry) by the node's registered `signer` key.
///      The Registry burns a slash; the challenger's share is minted back (MINTER_ROLE), never more
///      than was just burned, so supply still falls by slash − share.
contract Challenges {
    using SafeERC20 for IERC20;

    bytes32 public constant CHALLENGE_DEPOSIT = keccak256("CHALLENGE_DEPOSIT");
    bytes32 public constant CHALLENGE_WINDOW = keccak256("CHALLENGE_WINDOW");
    bytes32 public constant SLASH_LOST_PIECE = keccak256("SLASH_LOST_PIECE");
    bytes32 public constant CHALLENGE_REWARD_BPS = keccak256("CHALLENGE_REWARD_BPS");
    /// @notice The reason code of the slash, as Registry.Slashed logs it.
    bytes32 public constant LOST_PIECE = keccak256("LOST_PIECE");

    bytes32 public constant PIECE_RECEIPT_TYPEHASH =
        keccak256("PieceReceipt(address node,bytes32 pieceId,bytes32 pieceRoot,uint64 size,uint64 storedAt)");
    bytes32 private constant DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");

    uint256 public constant CHUNK_SIZE = 1024;

    uint8 public constant STATUS_NONE = 0;
    uint8 public constant STATUS_OPEN = 1;
    uint8 public constant STATUS_ANSWERED = 2;
    uint8 public constant STATUS_EXPIRED = 3;

    error DealNotActive(uint256 dealId);
    error PieceNotInDeal(uint256 dealId, bytes32 pieceId);
    error ChunkOutOfRange(uint32 chunkIndex, uint256 chunks);
    error UnknownNode(address node);
    error InvalidReceipt(address node, address recovered);
    error ChallengeNotOpen(uint256 id, uint8 status);
    error DeadlinePassed(uint256 id, uint256 deadline);
    error DeadlineNotPassed(uint256 id, uint256 deadline);
    error BadChunkLength(uint256 length);
    error InvalidChunkProof(uint256 id);

    /// @notice The node's signed statement that it stored a piece (the HTTP message of the same name).
    struct PieceReceipt {
        address node;
        bytes32 pieceId;
        bytes32 pieceRoot;
        uint64 size;
        uint64 storedAt;
    }

    /// @dev Three storage slots.
    struct Challenge {
        address challenger;
        uint40 deadline;
        uint32 chunkIndex;
        uint8 status;
        address node;
        uint96 deposit;
        bytes32 pieceRoot;
    }

    Token public immutable token;
    Registry public immutable registry;
    StorageDeals public immutable deals;
    Params public immutable params;

    uint256 private immutable cachedChainId;
    bytes32 private immutable cachedDomainSeparator;

    uint256 public challengeCount;
    mapping(uint256 => Challenge) private challenges_;

    event ChallengeOpened(
        uint256 indexed id,
        address indexed node,
        address indexed challenger,
        uint256 dealId,
        bytes32 pieceId,
        bytes32 pieceRoot,
        uint32 chunkIndex,
        uint64 deadline,
        uint256 deposit
    );
    event ChallengeAnswered(uint256 indexed id, address indexed node, uint256 deposit);
    event ChallengeExpired(
        uint256 indexed id, address indexed node, address indexed challenger, uint256 slashed, uint256 reward
    );

    constructor(Token token_, Registry registry_, StorageDeals deals_, Params params_) {
        token = token_;
        registry = registry_;
        deals = deals_;
        params = params_;
        cachedChainId = block.chainid;
        cachedDomainSeparator = _buildDomainSeparator();
    }

    /// @notice Challenges `receipt.node` to post chunk `chunkIndex` of the piece `receipt.pieceId` of
    ///         deal `dealId` within CHALLENGE_WINDOW seconds. Approve CHALLENGE_DEPOSIT Token first.
    /// @param pieceProof the piece id's proof in the deal root (StandardMerkleTree, `bytes32` leaves).
    /// @param receiptSignature the node's EIP-712 signature of `receipt`, by its registered signer.
    function challenge(
        uint256 dealId,
        PieceReceipt calldata receipt,
        bytes32[] calldata pieceProof,
        uint32 chunkIndex,
        bytes calldata receiptSignature
    ) external returns (uint256 id) {
        _checkPiece(dealId, receipt, pieceProof, chunkIndex);
        _checkReceipt(receipt, receiptSignature);
        id = _open(dealId, receipt, chunkIndex);
    }

    /// @notice Answers an open challenge before its deadline with the 1024-byte chunk and its proof
    ///         against the piece root; the deposit goes to the node. Anyone may submit the answer.
    function respond(uint256 id, bytes calldata chunk, bytes32[] calldata proof) external {
        Challenge storage c = challenges_[id];
        if (c.status != STATUS_OPEN) revert ChallengeNotOpen(id, c.status);
        if (block.timestamp > c.deadline) revert DeadlinePassed(id, c.deadline);
        if (chunk.length != CHUNK_SIZE) revert BadChunkLength(chunk.length);
        bytes32 leaf = sha256(abi.encodePacked(c.chunkIndex, chunk));
        if (!MerkleProof.verifyCalldata(proof, c.pieceRoot, leaf)) revert InvalidChunkProof(id);
        c.status = STATUS_ANSWERED;
        address node = c.node;
        uint256 deposit = c.deposit;
        IERC20(address(token)).safeTransfer(node, deposit);
        emit ChallengeAnswered(id, node, deposit);
    }

    /// @notice Settles a challenge left unanswered past its deadline: slashes the node, refunds the
    ///         challenger's deposit and pays it CHALLENGE_REWARD_BPS of what was slashed. Anyone may call.
    function expire(uint256 id) external returns (uint256 slashed, uint256 reward) {
        Challenge storage c = challenges_[id];
        if (c.status != STATUS_OPEN) revert ChallengeNotOpen(id, c.status);
        if (block.timestamp <= c.deadline) revert DeadlineNotPassed(id, c.deadline);
        c.status = STATUS_EXPIRED;
        address node = c.node;
        address challenger = c.challenger;
        slashed = registry.slash(node, params.get(SLASH_LOST_PIECE), LOST_PIECE);
        reward = (slashed * params.get(CHALLENGE_REWARD_BPS)) / 10_000;
        IERC20(address(token)).safeTransfer(challenger, c.deposit);
        if (reward > 0) token.mint(challenger, reward);
        emit ChallengeExpired(id, node, challenger, slashed, reward);
    }

    function getChallenge(uint256 id) external view returns (Challenge memory) {
        return challenges_[id];
    }

    /// @notice The EIP-712 digest a node signs for `receipt` (domain of the HTTP messages).
    function receiptDigest(PieceReceipt calldata receipt) public view returns (bytes32) {
        bytes32 structHash = keccak256(
            abi.encode(
                PIECE_RECEIPT_TYPEHASH, receipt.node, receipt.pieceId, receipt.pieceRoot, receipt.size, receipt.storedAt
            )
        );
        return keccak256(abi.encodePacked(hex"1901", domainSeparator(), structHash));
    }

    /// @notice The HTTP messages' EIP-712 domain separator: ("depin", "1", chain id, Registry).
    function domainSeparator() public view returns (bytes32) {
        return block.chainid == cachedChainId ? cachedDomainSeparator : _buildDomainSeparator();
    }

    /// @dev The piece is in an active deal and the chunk inside the piece the node signed for.
    function _checkPiece(uint256 dealId, PieceReceipt calldata receipt, bytes32[] calldata proof, uint32 chunkIndex)
        private
        view
    {
        (bytes32 dealRoot, bool active) = deals.dealRoot(dealId);
        if (!active) revert DealNotActive(dealId);
        bytes32 leaf = keccak256(bytes.concat(keccak256(abi.encode(receipt.pieceId))));
        if (!MerkleProof.verifyCalldata(proof, dealRoot, leaf)) revert PieceNotInDeal(dealId, receipt.pieceId);
        uint256 chunks = (uint256(receipt.size) + CHUNK_SIZE - 1) / CHUNK_SIZE;
        if (chunkIndex >= chunks) revert ChunkOutOfRange(chunkIndex, chunks);
    }

    function _open(uint256 dealId, PieceReceipt calldata receipt, uint32 chunkIndex) private returns (uint256 id) {
        uint256 deposit = params.get(CHALLENGE_DEPOSIT);
        uint256 deadline = block.timestamp + params.get(CHALLENGE_WINDOW);
        id = ++challengeCount;
        challenges_[id] = Challenge({
            challenger: msg.sender,
            deadline: SafeCast.toUint40(deadline),
            chunkIndex: chunkIndex,
            status: STATUS_OPEN,
            node: receipt.node,
            deposit: SafeCast.toUint96(deposit),
            pieceRoot: receipt.pieceRoot
        });
        IERC20(address(token)).safeTransferFrom(msg.sender, address(this), deposit);
        emit ChallengeOpened(
            id, receipt.node, msg.sender, dealId, receipt.pieceId, receipt.pieceRoot, chunkIndex, uint64(deadline), deposit
        );
    }

    function _checkReceipt(PieceReceipt calldata receipt, bytes calldata signature) private view {
        Registry.Node memory n = registry.getNode(receipt.node);
        if (n.status == 0) revert UnknownNode(receipt.node);
        (address recovered, ECDSA.RecoverError err,) = ECDSA.tryRecoverCalldata(receiptDigest(receipt), signature);
        if (err != ECDSA.RecoverError.NoError || recovered != n.signer) revert InvalidReceipt(receipt.node, recovered);
    }

    function _buildDomainSeparator() private view returns (bytes32) {
        return keccak256(
            abi.encode(DOMAIN_TYPEHASH, keccak256("depin"), keccak256("1"), block.chainid, address(registry))
        );
    }
}
