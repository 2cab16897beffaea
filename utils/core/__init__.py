"""The shared machinery any small language-model project has: settings, data files, loading a model,
batching, generation, the training loop, plots, running a notebook. Nothing here knows the course's
drugs or notes, and nothing here imports from utils.tasks or utils.lessons."""
