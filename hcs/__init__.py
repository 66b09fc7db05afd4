"""HCS: governed customer communications."""
