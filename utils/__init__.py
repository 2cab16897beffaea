"""Shared helpers that the notebooks import: one concern a module, each named for it.

    config           seeds, threads, the cache and data folders, the quick run's settings
    datafiles        reading data files, with errors that say what to fix
    model            loading a model offline (load_model)
    world            the fictional formulary: drugs, leaflets, questions, what changed over time
    clinical         clinical notes, the diagnosis XML and its schema check
    constraint       constrained decoding: only schema-valid diagnosis XML can be written
    prompts          every prompt and instruction a model is sent
    batching         token ids of prompts and answers in left-padded batches
    generation       batched greedy answers, the shared-prefix cache, answer probabilities, latency
    scoring          is this answer right (facts, abstentions, stale answers, diagnoses), accuracies
    evaluate         closed-book evaluation: ask every question or note, score every answer
    train            the training loop, LoRA adapters and their cache
    recipes          the trained models the notebooks share, each one recipe
    drift            notebook 02: questions by what changed, the right/stale table, update costs
    retrieval        BM25 search over the leaflets, recall@k, the score threshold
    rag              retrieval-augmented answering: the passage in the prompt, abstention
    reader_data      the invented leaflets and questions the reader adapter learns from
    heldout          hand-written question wordings (sealed held-out, dev): load, check, ask them
    combined         notebook 05's system: the XML adapter plus a treatment read from a leaflet
    results          each notebook's measurements, a dataclass each, saved and read back
    comparison       notebook 05's table and headline figures
    plots            one plot style and the shared chart types
    explorer         notebook 05's widget: ask every system, edit a leaflet
    ask              ask a folder of your own documents
    checkpoint       claim and expect: a lesson's checks
    exercise_checks  the exercises' check-your-answer cells
    notebooks        running a notebook headless
"""
