"""The course's two tasks and the systems that do them: the fictional formulary and its questions,
clinical notes and their diagnosis XML, prompts, scoring, evaluation, retrieval, the systems' names,
and saved results. Imports utils.core and utils.tasks only, never utils.lessons."""
