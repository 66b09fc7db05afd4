"""RFC 9162 Merkle trees over a log's entry hashes: tree heads, inclusion and consistency proofs.

A leaf is an entry's hash (32 bytes); leaf hash = SHA-256(0x00 || leaf), an interior node =
SHA-256(0x01 || left || right), and a tree of n leaves splits at the largest power of two below
n (RFC 9162, section 2.1). The verification functions are the RFC's algorithms 2.1.3.2 and
2.1.4.2, for anyone holding only a tree head and a proof.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence


def leaf_hash(leaf: bytes) -> bytes:
    """SHA-256(0x00 || leaf)."""
    return hashlib.sha256(b"\x00" + leaf).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """SHA-256(0x01 || left || right)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    return 1 << ((n - 1).bit_length() - 1)


def tree_hash(hashed: Sequence[bytes]) -> bytes:
    """MTH over leaf hashes (already `leaf_hash`ed); SHA-256 of nothing for an empty tree."""
    if not hashed:
        return hashlib.sha256(b"").digest()
    level = list(hashed)
    while len(level) > 1:  # pairing left to right gives the RFC's left-balanced tree
        pairs = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        level = pairs + ([level[-1]] if len(level) % 2 else [])
    return level[0]


def inclusion_proof(index: int, hashed: Sequence[bytes]) -> list[bytes]:
    """PATH(index, D[n]): the audit path of one leaf (RFC 9162, 2.1.3.1)."""
    if not 0 <= index < len(hashed):
        raise ValueError(f"leaf {index} is not in a tree of {len(hashed)}")
    if len(hashed) == 1:
        return []
    k = _split(len(hashed))
    if index < k:
        return [*inclusion_proof(index, hashed[:k]), tree_hash(hashed[k:])]
    return [*inclusion_proof(index - k, hashed[k:]), tree_hash(hashed[:k])]


def consistency_proof(old_size: int, hashed: Sequence[bytes]) -> list[bytes]:
    """PROOF(m, D[n]): that the first `old_size` leaves are this tree's prefix (2.1.4.1)."""
    if not 0 < old_size <= len(hashed):
        raise ValueError(f"no consistency proof from {old_size} to {len(hashed)}")
    return _subproof(old_size, hashed, True)


def _subproof(m: int, hashed: Sequence[bytes], complete: bool) -> list[bytes]:
    if m == len(hashed):
        return [] if complete else [tree_hash(hashed)]
    k = _split(len(hashed))
    if m <= k:
        return [*_subproof(m, hashed[:k], complete), tree_hash(hashed[k:])]
    return [*_subproof(m - k, hashed[k:], False), tree_hash(hashed[:k])]


def verify_inclusion(
    leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> bool:
    """RFC 9162 2.1.3.2: does `proof` place `leaf` at `index` of the tree (`size`, `root`)?"""
    if index >= size:
        return False
    fn, sn, r = index, size - 1, leaf_hash(leaf)
    for p in proof:
        if sn == 0:
            return False
        if fn % 2 == 1 or fn == sn:
            r = node_hash(p, r)
            while fn % 2 == 0 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and r == root


def verify_consistency(
    old_size: int, old_root: bytes, size: int, root: bytes, proof: Sequence[bytes]
) -> bool:
    """RFC 9162 2.1.4.2: is the tree (`size`, `root`) an extension of (`old_size`, `old_root`)?"""
    if old_size == size:
        return not proof and old_root == root
    if old_size == 0 or old_size > size or not proof:
        return False
    path = list(proof)
    if old_size & (old_size - 1) == 0:  # a power of two: the old root is the first node
        path.insert(0, old_root)
    fn, sn = old_size - 1, size - 1
    while fn % 2 == 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn % 2 == 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while fn % 2 == 0 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return fr == old_root and sr == root and sn == 0
