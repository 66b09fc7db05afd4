"""RFC 9162 proofs from `hcs.sealing.merkle`, checked by a verifier written here from the RFC.

The verifier below is a separate transcription of RFC 9162 sections 2.1.3.2 and 2.1.4.2 (it
shares no code with HCS); the tree hash is checked against the RFC 6962 test vectors too.
"""

from __future__ import annotations

import itertools

import pytest

from hcs.sealing import merkle, merkle_root
from tests.support.merkle import rfc_verify_consistency, rfc_verify_inclusion, sha256

# The eight leaves of the RFC 6962 reference tests (certificate-transparency-go, merkle tests).
VECTOR_LEAVES = [
    bytes.fromhex(h)
    for h in ("", "00", "10", "2021", "3031", "40414243", "5051525354555657",
              "606162636465666768696a6b6c6d6e6f")
]  # fmt: skip
VECTOR_ROOTS = {
    1: "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    2: "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    3: "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    4: "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    5: "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    6: "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    7: "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    8: "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
}


def _leaves(n: int) -> list[bytes]:
    return [sha256(f"entry {i}".encode()) for i in range(n)]


def _hashed(leaves: list[bytes]) -> list[bytes]:
    return [merkle.leaf_hash(leaf) for leaf in leaves]


def test_the_tree_hash_matches_the_rfc_6962_test_vectors() -> None:
    for size, root in VECTOR_ROOTS.items():
        assert merkle.tree_hash(_hashed(VECTOR_LEAVES[:size])).hex() == root
    for n in range(1, 40):
        leaves = _leaves(n)
        assert merkle.tree_hash(_hashed(leaves)) == merkle_root(leaves)


def test_every_inclusion_proof_verifies_and_no_other_leaf_or_index_does() -> None:
    for n in range(1, 34):
        leaves = _leaves(n)
        root = merkle.tree_hash(_hashed(leaves))
        for index in range(n):
            path = merkle.inclusion_proof(index, _hashed(leaves))
            assert rfc_verify_inclusion(leaves[index], index, n, path, root)
            assert merkle.verify_inclusion(leaves[index], index, n, path, root)
            other = (index + 1) % n
            if other != index:
                assert not rfc_verify_inclusion(leaves[other], index, n, path, root)
                assert not rfc_verify_inclusion(leaves[index], other, n, path, root)


def test_every_consistency_proof_verifies_and_a_changed_prefix_does_not() -> None:
    for m, n in itertools.combinations_with_replacement(range(1, 34), 2):
        leaves = _leaves(n)
        old_root = merkle.tree_hash(_hashed(leaves[:m]))
        root = merkle.tree_hash(_hashed(leaves))
        proof = merkle.consistency_proof(m, _hashed(leaves))
        assert rfc_verify_consistency(m, old_root, n, root, proof), (m, n)
        assert merkle.verify_consistency(m, old_root, n, root, proof), (m, n)
        # The same new log against a head whose entry 0 was different: never consistent.
        forged = merkle.tree_hash(_hashed([sha256(b"rewritten"), *leaves[1:m]]))
        assert not rfc_verify_consistency(m, forged, n, root, proof)
        assert not merkle.verify_consistency(m, forged, n, root, proof)


@pytest.mark.parametrize(("m", "n"), [(0, 3), (4, 3)])
def test_a_proof_between_impossible_sizes_is_refused(m: int, n: int) -> None:
    with pytest.raises(ValueError, match="no consistency proof"):
        merkle.consistency_proof(m, _hashed(_leaves(n)))
