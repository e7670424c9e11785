"""Encryption of stored secrets (OAuth tokens, client secrets): AES-256-GCM (INT-01-SEC-005).

Each value is bound to where it is stored (tenant, provider, column) as associated data, so
a ciphertext copied into another row or column does not decrypt. The stored form is
``v1:<base64(nonce | ciphertext | tag)>``; the version prefix leaves room for key rotation.
"""

from __future__ import annotations

import base64
import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

PREFIX = "v1:"


class SecretCipher:
    def __init__(self, key: bytes) -> None:
        if len(key) != 32:
            raise ValueError("the encryption key must be 32 bytes (AES-256)")
        self._aead = AESGCM(key)

    @classmethod
    def from_text(cls, text: str) -> SecretCipher:
        """A cipher from the base64 key kept in settings."""
        try:
            key = base64.b64decode(text.strip(), validate=True)
        except ValueError as error:
            raise ValueError("the encryption key is not valid base64") from error
        return cls(key)

    @staticmethod
    def new_key() -> str:
        return base64.b64encode(AESGCM.generate_key(bit_length=256)).decode()

    def encrypt(self, plaintext: str, context: str) -> str:
        nonce = os.urandom(12)
        sealed = self._aead.encrypt(nonce, plaintext.encode(), context.encode())
        return PREFIX + base64.b64encode(nonce + sealed).decode()

    def decrypt(self, stored: str, context: str) -> str:
        if not stored.startswith(PREFIX):
            raise ValueError("unknown secret format")
        raw = base64.b64decode(stored[len(PREFIX) :])
        return self._aead.decrypt(raw[:12], raw[12:], context.encode()).decode()
