"""The helpers the notebooks import, in three layers; a module imports from its own layer and the
ones above it in this list, never from a layer below (tests/test_layout.py checks it):

core: the machinery any small language-model project has
    core.config            seeds, threads, the cache and data folders, the quick run's setting
    core.datafiles         reading data files, with errors that say what to fix
    core.model             loading a model offline (load_model)
    core.batching          token ids of prompts and answers in left-padded batches
    core.generation        batched greedy answers, the shared-prefix cache, answer probabilities, latency
    core.train             the training loop, LoRA adapters and their cache
    core.plots             one plot style and the shared chart types
    core.notebook_runner   the lessons (series and bonus) and running a notebook headless

tasks: the course's two tasks and the systems that do them
    tasks.world            the fictional formulary: drugs, leaflets, questions, what changed over time
    tasks.clinical         clinical notes, the diagnosis XML and its schema check
    tasks.constraint       constrained decoding: only schema-valid diagnosis XML can be written
    tasks.prompts          every prompt and instruction a model is sent
    tasks.scoring          is this answer right (facts, abstentions, stale answers, diagnoses), accuracies
    tasks.evaluate         evaluation: ask every question or note (with retrieval too), score every answer
    tasks.retrieval        BM25 search over the leaflets, recall@k, the abstention rule and its calibration
    tasks.rag              retrieval-augmented answering: the passage in the prompt, abstention
    tasks.systems          every system compared, named once: id, label, colour
    tasks.results          each notebook's measurements, a dataclass each, saved and read back
    tasks.ask              ask a folder of your own documents
    tasks.outside          the hand-written outside sets: shorthand notes, other domains' documents (sealed, dev)

lessons: what serves one lesson or one system
    lessons.recipes        the trained models the notebooks share, each one recipe (the bonus lessons' too)
    lessons.drift          notebook 02: questions by what changed, the right/stale table, update costs
    lessons.reader_data    the invented leaflets and questions the reader adapter learns from
    lessons.reader_domains invented passages of other kinds (policies, timetables...) for the reader
    lessons.wordings       hand-written question wordings (sealed held-out, dev): load, check, ask them
    lessons.combined       notebook 06's system: the XML adapter plus a treatment read from a leaflet
    lessons.comparison     notebook 06's table, headline figures and summary figure
    lessons.misleading     bonus 08: wrong leaflets, dated versions, maker profiles, two hops, whose answer
    lessons.explorer       notebook 06's widget: ask every system, edit a leaflet
    lessons.checks         claim and expect: the lessons' checks
    lessons.exercise_checks  the exercises' check-your-answer cells
    lessons.weight_edit    bonus 07: rank-one weight edits (ROME-style) of the drift's facts, alone or in turn
    lessons.long_prompt    bonus 07: every leaflet in the prompt, one cached passage, the position curve
"""
