"""The layout's rule: core imports only core; tasks imports core and tasks; lessons may import
anything; and no module imports itself back through others (a cycle)."""
import ast

from utils.core.config import REPO_ROOT

LAYERS = ("core", "tasks", "lessons")  # a module may import from its own layer and those before it


def _imports() -> dict[str, set[str]]:
    """module ("tasks.rag") -> the utils modules it imports, at the top or inside a function."""
    graph = {}
    for path in (REPO_ROOT / "utils").glob("*/*.py"):
        name = path.relative_to(REPO_ROOT / "utils").with_suffix("").as_posix().replace("/", ".")
        found = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("utils."):
                found.add(node.module.removeprefix("utils."))
            elif isinstance(node, ast.Import):
                found |= {a.name.removeprefix("utils.") for a in node.names if a.name.startswith("utils.")}
        graph[name] = {m for m in found if m.count(".") == 1} - {name}
    return graph


def test_no_layer_imports_a_later_one():
    upward = [f"{module} imports {imported}" for module, imports in _imports().items() for imported in imports
              if LAYERS.index(imported.split(".")[0]) > LAYERS.index(module.split(".")[0])]
    assert not upward, upward


def test_no_import_cycles():
    graph = _imports()
    state: dict[str, str] = {}

    def visit(module, path):
        state[module] = "open"
        for nxt in graph.get(module, ()):
            assert state.get(nxt) != "open", "import cycle: " + " -> ".join([*path, nxt])
            if nxt not in state:
                visit(nxt, [*path, nxt])
        state[module] = "done"

    for module in graph:
        if module not in state:
            visit(module, [module])


def test_the_rule_sees_a_violation(tmp_path, monkeypatch):
    """The check reads real imports: a module of core that imports a lesson is caught."""
    fake = tmp_path / "utils" / "core"
    fake.mkdir(parents=True)
    (fake / "bad.py").write_text("from utils.lessons.drift import GROUPS\n")
    monkeypatch.setattr(__import__(__name__), "REPO_ROOT", tmp_path)
    assert _imports() == {"core.bad": {"lessons.drift"}}
