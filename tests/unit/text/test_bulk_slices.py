"""Bulk text analysis works in slices, letting the real-time lane go between them, and reads the
texts exactly as one model call over all of them does."""

from __future__ import annotations

from tiyan.services import jobs
from tiyan.services import text_analysis as service
from tiyan.store.text_analysis import TextToAnalyse

COMMENTS = ("服务很好，下次还来", "等了太久，没人理", "价格有点贵", "师傅技术不错", "交车晚了一天",
            "The staff were friendly but the wait was long")


def test_bulk_analysis_in_slices_reads_the_texts_as_one_call_does(monkeypatch) -> None:
    texts = [TextToAnalyse(i, "comment", COMMENTS[i % len(COMMENTS)], 1) for i in range(11)]
    whole = service._analyse(texts, "car_aftersales")
    yields: list[int] = []
    monkeypatch.setattr(service, "BULK_SLICE_TEXTS", 4)
    monkeypatch.setattr(service, "yield_to_realtime", lambda: yields.append(1))
    with jobs._in_lane(jobs.BULK):
        sliced = service._analyse(texts, "car_aftersales")
    assert sliced == whole
    assert len(yields) == 2  # between the slices 0-3, 4-7 and 8-10
    assert service._analyse(texts, "car_aftersales") == whole  # real-time work: one call
    assert len(yields) == 2
