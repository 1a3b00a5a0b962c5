"""The real all-MiniLM-L6-v2 learns a small two-class DataFrame within a few epochs on CPU."""

from __future__ import annotations

import pandas as pd
import pytest

from fmwidgets.core.models.predict import predict
from fmwidgets.core.training.finetune import run_finetune as finetune

POSITIVE = [
    "I loved this film, it was wonderful", "a great and moving story", "brilliant acting and a lovely plot",
    "what a delightful movie", "fantastic, I would watch it again", "superb direction and great music",
    "the best film I have seen this year", "heartwarming and funny", "an excellent, joyful experience",
    "beautiful pictures and a happy ending", "I really enjoyed every minute", "charming and well made",
    "a wonderful cast, truly great", "it made me smile all the way through", "a masterpiece, pure joy",
    "lovely, warm and clever", "great fun for the whole family", "amazing work by everyone",
    "so good, highly recommended", "a real treat from start to finish",
]
NEGATIVE = [
    "I hated this film, it was awful", "a boring and dull story", "terrible acting and a stupid plot",
    "what a dreadful movie", "horrible, I walked out", "poor direction and annoying music",
    "the worst film I have seen this year", "depressing and tedious", "a bad, painful experience",
    "ugly pictures and a sad mess", "I regret every minute", "clumsy and badly made",
    "a weak cast, truly bad", "it made me angry all the way through", "a disaster, pure pain",
    "awful, cold and stupid", "no fun at all", "terrible work by everyone", "so bad, avoid it",
    "a waste of time and money",
]


@pytest.mark.slow
def test_minilm_reaches_high_held_out_accuracy(minilm):
    df = pd.DataFrame({"review": POSITIVE + NEGATIVE, "sentiment": ["good"] * 20 + ["bad"] * 20})
    result = finetune(df, text="review", label="sentiment", epochs=4, lr=2e-4, batch_size=8,
                      max_length=32, val_split=0.25, seed=0)
    assert result.eval_rows == 10 and result.per_class["support"].tolist() == [5, 5]  # stratified
    assert result.metrics["accuracy"] >= 0.9, result.metrics
    assert result.metrics["accuracy"] > result.before["accuracy"]
    unseen = predict(["an absolutely wonderful, joyful film", "a dull, awful and boring mess"])
    assert unseen.tolist() == ["good", "bad"]
