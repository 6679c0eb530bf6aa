"""One case per kind of manifest mistake: its code, its exact file:line:column, its address and its hint."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from ftops.errors import Diagnostic, ManifestError
from ftops.manifest import codes
from ftops.manifest.load import load_manifests

from .conftest import FILE_DOC, write

JOB = """\
---
apiVersion: ftops/v1
kind: FineTuningJob
metadata:
  name: support-v1
spec:
  model: open-mistral-7b
  training_files:
    - file: train
"""
# Line numbers below count from the first line of the case text (FILE_DOC is 6 lines, JOB starts at 7).

CASES: list[tuple[str, str, str, str, str | None, str]] = [
    ("yaml-syntax", "apiVersion: ftops/v1\nkind: File\nmetadata: {name: train\nspec: {}\n", codes.YAML_SYNTAX,
     "m.yaml:4:5", None, "indentation"),
    ("yaml-tab", "apiVersion: ftops/v1\nkind: File\n\tmetadata: {}\n", codes.YAML_SYNTAX, "m.yaml:3:1", None,
     "tabs are not allowed"),
    ("not-a-mapping", "- apiVersion: ftops/v1\n- kind: File\n", codes.NOT_A_MAPPING, "m.yaml:1:1", None,
     "apiVersion, kind, metadata and spec"),
    ("duplicate-key", FILE_DOC + "  path: other.jsonl\n", codes.DUPLICATE_KEY, "m.yaml:7:3", "file.train",
     "YAML would keep only the last"),
    ("missing-api-version", FILE_DOC.replace("apiVersion: ftops/v1\n", ""), codes.API_VERSION, "m.yaml:1:1",
     "file.train", "apiVersion: ftops/v1"),
    ("wrong-api-version", FILE_DOC.replace("ftops/v1", "v1"), codes.API_VERSION, "m.yaml:1:13", "file.train",
     "use apiVersion: ftops/v1"),
    ("unknown-kind", FILE_DOC.replace("kind: File", "kind: Fiel"), codes.UNKNOWN_KIND, "m.yaml:2:7", None,
     "did you mean 'File'?"),
    ("kind-alias", FILE_DOC.replace("kind: File", "kind: Job"), codes.UNKNOWN_KIND, "m.yaml:2:7", None,
     "did you mean 'FineTuningJob'?"),
    ("missing-kind", FILE_DOC.replace("kind: File\n", ""), codes.UNKNOWN_KIND, "m.yaml:1:1", None,
     "add kind: one of File, FineTuningJob, Model"),
    ("missing-name", FILE_DOC.replace("  name: train\n", "  labels: {a: b}\n"), codes.MISSING_NAME, "m.yaml:3:1",
     None, "every resource needs metadata.name"),
    ("bad-name", FILE_DOC.replace("name: train", "name: Train_Set!"), codes.BAD_NAME, "m.yaml:4:9",
     "file.Train_Set!", "lowercase letters"),
    ("unknown-field", FILE_DOC + JOB + "  hyperparameters:\n    learning_rte: 0.0001\n", codes.UNKNOWN_FIELD,
     "m.yaml:17:5", "job.support-v1", "did you mean 'learning_rate'?"),
    ("unknown-top-field", FILE_DOC + "specs: {}\n", codes.UNKNOWN_FIELD, "m.yaml:7:1", "file.train",
     "did you mean 'spec'?"),
    ("missing-field", FILE_DOC.replace("  path: ../data/train.jsonl\n", "  purpose: fine-tune\n"),
     codes.MISSING_FIELD, "m.yaml:5:1", "file.train", "add path: JSONL dataset"),
    ("wrong-type", FILE_DOC + JOB + "  hyperparameters:\n    training_steps: lots\n", codes.WRONG_TYPE,
     "m.yaml:17:21", "job.support-v1", "Optimizer steps"),
    ("learning-rate-range", FILE_DOC + JOB + "  hyperparameters:\n    learning_rate: 5\n", codes.OUT_OF_RANGE,
     "m.yaml:17:20", "job.support-v1", "1e-8..1"),
    ("seq-len-range", FILE_DOC + JOB + "  hyperparameters:\n    seq_len: 50\n", codes.OUT_OF_RANGE,
     "m.yaml:17:14", "job.support-v1", "≥ 100"),
    ("suffix-too-long", FILE_DOC + JOB + "  suffix: this-suffix-is-way-too-long\n", codes.OUT_OF_RANGE,
     "m.yaml:16:11", "job.support-v1", "≤ 18 chars"),
    ("suffix-characters", FILE_DOC + JOB + "  suffix: my.model v2\n", codes.BAD_SUFFIX,
     "m.yaml:16:11", "job.support-v1", "e.g. 'my-model-v2'"),
    ("model-typo", FILE_DOC + JOB.replace("open-mistral-7b", "open-mistral-7bb"), codes.UNKNOWN_BASE_MODEL,
     "m.yaml:13:10", "job.support-v1", "did you mean 'open-mistral-7b'?"),
    ("model-not-mistral", FILE_DOC + JOB.replace("open-mistral-7b", "gpt-4o"), codes.UNKNOWN_BASE_MODEL,
     "m.yaml:13:10", "job.support-v1", "use one of: open-mistral-7b"),
    ("skip-percentage", FILE_DOC + JOB + "  invalid_sample_skip_percentage: 0.9\n", codes.OUT_OF_RANGE,
     "m.yaml:16:35", "job.support-v1", "0..0.5"),
    ("weight-zero", FILE_DOC + JOB + "      weight: 0\n", codes.OUT_OF_RANGE, "m.yaml:16:15", "job.support-v1",
     "> 0"),
    ("invalid-choice", FILE_DOC + JOB + "  job_type: clasifier\n", codes.INVALID_VALUE, "m.yaml:16:13",
     "job.support-v1", "did you mean 'classifier'?"),
    ("literal-secret", FILE_DOC + JOB + "  integrations:\n    - project: support\n      api_key: abc123\n",
     codes.LITERAL_SECRET, "m.yaml:18:7", "job.support-v1",
     "put the key in an environment variable and name it in api_key_env"),
    ("secret-in-env-name", FILE_DOC + JOB
     + "  integrations:\n    - project: support\n      api_key_env: " + "ab12" * 10 + "\n",
     codes.LITERAL_SECRET, "m.yaml:18:20", "job.support-v1", "name it in api_key_env"),
    ("duplicate-name", FILE_DOC + "---\n" + FILE_DOC, codes.DUPLICATE_NAME, "m.yaml:11:9", "file.train",
     "rename one"),
    ("dangling-file", FILE_DOC + JOB.replace("file: train", "file: trian"), codes.DANGLING_REFERENCE,
     "m.yaml:15:13", "job.support-v1", "did you mean 'train'?"),
    ("dangling-validation", FILE_DOC + JOB + "  validation_files: [valid]\n", codes.DANGLING_REFERENCE,
     "m.yaml:16:22", "job.support-v1", "define a File with metadata.name: valid"),
    ("dangling-job", FILE_DOC + JOB + "---\napiVersion: ftops/v1\nkind: Model\nmetadata: {name: m}\n"
     "spec: {job: support-v2}\n", codes.DANGLING_REFERENCE, "m.yaml:20:13", "model.m", "did you mean 'support-v1'?"),
    ("file-not-found", FILE_DOC.replace("train.jsonl", "missing.jsonl"), codes.FILE_NOT_FOUND, "m.yaml:6:9",
     "file.train", "relative to the folder of the manifest file"),
    ("path-escapes-root", FILE_DOC.replace("../data/train.jsonl", "../../outside.jsonl"), codes.PATH_ESCAPES_ROOT,
     "m.yaml:6:9", "file.train", "inside the project root"),
    ("fim-ratio-classifier", FILE_DOC + JOB.replace("open-mistral-7b", "ministral-3b-latest")
     + "  job_type: classifier\n  classifier_targets: [{name: intent, labels: [billing]}]\n"
     "  hyperparameters: {fim_ratio: 0.5}\n", codes.FIM_RATIO_NOT_COMPLETION, "m.yaml:18:21", "job.support-v1",
     "remove fim_ratio"),
    ("classifier-needs-targets", FILE_DOC + JOB.replace("open-mistral-7b", "ministral-3b-latest")
     + "  job_type: classifier\n", codes.CLASSIFIER_NEEDS_TARGETS, "m.yaml:16:13", "job.support-v1",
     "add classifier_targets"),
    ("classifier-model", FILE_DOC + JOB + "  job_type: classifier\n"
     "  classifier_targets: [{name: intent, labels: [billing]}]\n", codes.CLASSIFIER_MODEL, "m.yaml:13:10",
     "job.support-v1", "set model: ministral-3b-latest"),
    ("targets-on-completion", FILE_DOC + JOB + "  classifier_targets: [{name: intent, labels: [billing]}]\n",
     codes.TARGETS_ON_COMPLETION, "m.yaml:16:3", "job.support-v1", "set job_type: classifier"),
    ("steps-and-epochs", FILE_DOC + JOB + "  hyperparameters:\n    training_steps: 10\n    epochs: 2\n",
     codes.STEPS_AND_EPOCHS, "m.yaml:18:5", "job.support-v1", "choose one"),
    ("models-share-job", FILE_DOC + JOB + "---\napiVersion: ftops/v1\nkind: Model\nmetadata: {name: a}\n"
     "spec: {job: support-v1}\n---\napiVersion: ftops/v1\nkind: Model\nmetadata: {name: b}\nspec: {job: support-v1}\n",
     codes.MODELS_SHARE_JOB, "m.yaml:25:13", "model.b", "one Model per job"),
]


@pytest.mark.parametrize(("text", "code", "where", "address", "hint"),
                         [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_each_mistake_is_located_and_explained(
    errors: Callable[[str], list[Diagnostic]], text: str, code: str, where: str, address: str | None, hint: str
) -> None:
    found = errors(text)
    matching = [d for d in found if d.code == code]
    assert matching, f"expected {code}, got {[d.render() for d in found]}"
    d = matching[0]
    assert str(d.location) == f"manifests/{where}", d.render()
    assert d.address == address
    assert d.hint is not None and hint in d.hint, d.render()
    assert len(found) == 1, [x.render() for x in found]


def test_model_name_given_twice(errors: Callable[[str], list[Diagnostic]]) -> None:
    job2 = JOB.replace("support-v1", "support-v2")
    models = "".join(
        f"---\napiVersion: ftops/v1\nkind: Model\nmetadata: {{name: {n}}}\nspec: {{job: {j}, name: Support bot}}\n"
        for n, j in (("a", "support-v1"), ("b", "support-v2"))
    )
    [d] = errors(FILE_DOC + JOB + job2 + models)
    assert d.code == codes.MODEL_NAME_TWICE
    assert str(d.location) == "manifests/m.yaml:34:31"
    assert "manifests/m.yaml:29:31" in d.message  # the other Model's name


def test_every_problem_is_reported_at_once(errors: Callable[[str], list[Diagnostic]]) -> None:
    # The job has errors of its own; its reference is still checked in the same run.
    broken_job = JOB.replace("file: train", "file: tran") + "  hyperparameters:\n    learning_rte: 1\n    epochs: -1\n"
    text = FILE_DOC.replace("train.jsonl", "nope.jsonl") + broken_job
    found = {d.code for d in errors(text)}
    assert found == {codes.FILE_NOT_FOUND, codes.DANGLING_REFERENCE, codes.UNKNOWN_FIELD, codes.OUT_OF_RANGE}


def test_a_broken_document_does_not_make_its_references_dangle(errors: Callable[[str], list[Diagnostic]]) -> None:
    [d] = errors(FILE_DOC.replace("  path: ../data/train.jsonl", "  path: ../data/train.jsonl\n  colour: red") + JOB)
    assert d.code == codes.UNKNOWN_FIELD


def test_secret_values_are_never_echoed(errors: Callable[[str], list[Diagnostic]]) -> None:
    secret = "0123456789abcdef0123456789abcdef01234567"
    text = FILE_DOC + JOB + f"  integrations:\n    - project: 7\n      api_key: {secret}\n      api_key_env: {secret}\n"
    rendered = "\n".join(d.render() for d in errors(text))
    assert secret not in rendered


def test_empty_input_is_an_error(project: Path) -> None:
    write(project, "# nothing here yet\n")
    with pytest.raises(ManifestError) as info:
        load_manifests(["manifests"], root=project)
    [d] = info.value.diagnostics
    assert d.code == codes.NO_INPUT and d.hint and "ftops schema" in d.hint


def test_folder_without_manifests(project: Path) -> None:
    with pytest.raises(ManifestError) as info:
        load_manifests(["manifests"], root=project)
    [d] = info.value.diagnostics
    assert d.code == codes.NO_INPUT and "no manifest files" in d.message


def test_missing_path_and_binary_and_bad_utf8(project: Path) -> None:
    (project / "manifests" / "blob.yaml").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    (project / "manifests" / "latin1.yaml").write_bytes(b"apiVersion: ftops/v1\nkind: Fil\xe9\n")
    with pytest.raises(ManifestError) as info:
        load_manifests(["manifests", "nope.yaml"], root=project)
    by_file = {str(d.location): d for d in info.value.diagnostics}
    assert set(by_file) == {"manifests/blob.yaml", "manifests/latin1.yaml:2:10", "nope.yaml"}
    assert all(d.code == codes.UNREADABLE for d in by_file.values())
    assert "binary" in by_file["manifests/blob.yaml"].message


def test_symlink_out_of_the_project_is_refused(project: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    outside = tmp_path_factory.mktemp("outside") / "secret.jsonl"
    outside.write_text("{}\n")
    (project / "data" / "link.jsonl").symlink_to(outside)
    write(project, FILE_DOC.replace("train.jsonl", "link.jsonl"))
    with pytest.raises(ManifestError) as info:
        load_manifests(["manifests"], root=project)
    assert [d.code for d in info.value.diagnostics] == [codes.PATH_ESCAPES_ROOT]


def test_folders_are_searched_recursively_skipping_hidden(project: Path) -> None:
    write(project, FILE_DOC.replace("../data", "../../../data"), "team/a/files.yml")
    write(project, "not: [valid", ".hidden/broken.yaml")
    write(project, "not: [valid", ".broken.yaml")
    manifest = load_manifests(["manifests"], root=project)
    assert list(manifest.files) == ["train"]
    assert manifest.files["train"].location is not None
    assert manifest.files["train"].location.file == "manifests/team/a/files.yml"
    assert manifest.file_path("train") == (project / "data" / "train.jsonl").resolve()


def test_alias_bombs_and_recursive_anchors_are_handled(errors: Callable[[str], list[Diagnostic]]) -> None:
    lines = ["x0: &a0 [l, l, l, l, l, l, l, l, l]"]
    lines += [f"x{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 9)]
    found = errors("\n".join(lines) + "\n")  # 9**9 leaves if expanded: refused from the node counts alone
    assert [d.code for d in found] == [codes.YAML_SYNTAX]
    assert "expands to more than 200,000 values" in found[0].message
    found = errors(FILE_DOC.replace("metadata:\n  name: train", "metadata: &m {name: train, labels: *m}"))
    assert [d.code for d in found] == [codes.WRONG_TYPE]
