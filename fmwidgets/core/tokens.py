"""Tokens as a person reads them: byte-level, WordPiece and SentencePiece markers cleaned up.

Views of attention and token probabilities label each position with its token; raw tokenizer
pieces ("Ġcat", "##ing", "▁the", "cat</w>") are noise to a domain expert, so every view takes
its labels from here.  Special tokens ([CLS], <|endoftext|>) are kept as they are and flagged.
"""

from __future__ import annotations

from typing import Any, Sequence


def readable_tokens(tokenizer: Any, ids: Sequence[int]) -> list[str]:
    """One label per id: the text that id contributes, with visible word boundaries."""
    special = set(getattr(tokenizer, "all_special_ids", []) or [])
    pieces = tokenizer.convert_ids_to_tokens(list(ids))
    out = []
    for tid, piece in zip(ids, pieces):
        piece = piece if piece is not None else ""
        if tid in special:
            out.append(piece)
        elif piece.startswith("##"):
            out.append(piece[2:])
        elif piece.endswith("</w>"):
            out.append(piece[:-4])
        else:
            text = tokenizer.decode([tid], clean_up_tokenization_spaces=False)
            out.append(text.replace("\n", "\\n").replace("\t", "\\t") or piece)
    return out


def special_mask(tokenizer: Any, ids: Sequence[int]) -> list[bool]:
    """True where the id is a special token ([CLS], [SEP], <|endoftext|>...)."""
    special = set(getattr(tokenizer, "all_special_ids", []) or [])
    return [int(i) in special for i in ids]
