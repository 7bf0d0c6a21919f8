"""rq workers: queue names, job functions (ids in, ids out) and the worker entry that warms models.

The jobs call the same stage functions as ``docintel scan`` (see ``docintel.pipeline``). The crawl,
extract, ocr and classify queues arrive with the Graph crawler (issue 3); until then ``docintel
scan`` runs the whole pipeline in-process.
"""
