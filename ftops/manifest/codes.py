"""Stable diagnostic codes for manifest problems.

Each code names one kind of mistake, never changes meaning, and is listed (with its fix) in
``docs/manifest-reference.md``, which is generated from :data:`CODES`. Dataset problems found by
``ftops validate`` keep the dataset codes (``E…``) documented in ``docs/dataset-errors.md``.
"""

from __future__ import annotations

# Input: reading files and YAML.
NO_INPUT = "M001"
UNREADABLE = "M002"
YAML_SYNTAX = "M003"
NOT_A_MAPPING = "M004"
DUPLICATE_KEY = "M005"
# Document header.
API_VERSION = "M010"
UNKNOWN_KIND = "M011"
MISSING_NAME = "M012"
BAD_NAME = "M013"
# Fields.
UNKNOWN_FIELD = "M020"
MISSING_FIELD = "M021"
WRONG_TYPE = "M022"
OUT_OF_RANGE = "M023"
INVALID_VALUE = "M024"
LITERAL_SECRET = "M025"
# Between resources.
DUPLICATE_NAME = "M030"
DANGLING_REFERENCE = "M031"
REFERENCE_CYCLE = "M032"
MODELS_SHARE_JOB = "M033"
MODEL_NAME_TWICE = "M034"
# Files on disk.
FILE_NOT_FOUND = "M040"
PATH_ESCAPES_ROOT = "M041"
# Job rules.
FIM_RATIO_NOT_COMPLETION = "M050"
CLASSIFIER_NEEDS_TARGETS = "M051"
CLASSIFIER_MODEL = "M052"
TARGETS_ON_COMPLETION = "M053"
STEPS_AND_EPOCHS = "M054"
BAD_SUFFIX = "M055"
UNKNOWN_BASE_MODEL = "M056"
CLASSIFIER_LABELS = "M057"
# Matrix.
MATRIX_UNKNOWN_KEY = "M060"
MATRIX_EMPTY = "M061"
MATRIX_BAD_VALUE = "M062"
MATRIX_KEY_TWICE = "M063"
MATRIX_NAME_CLASH = "M064"
# Moved declarations.
MOVE_KIND = "M080"
MOVE_TO_MISSING = "M081"
MOVE_FROM_DECLARED = "M082"
MOVE_CHAIN = "M083"
MOVE_TWICE = "M084"
# Evaluations, gates and sweeps that choose.
EVAL_SCORER_PARAMETER = "M090"
MODEL_JOB_OR_BEST_OF = "M091"
BEST_OF_NOT_SWEEP = "M092"
SMOKE_EXPECT = "M093"
# Providers.
PROVIDER_FIELD = "M100"
PROVIDER_SHAPE = "M101"
# `ftops validate` on the data files.
DATASET_TRUNCATED = "M070"
DATASET_UNREADABLE = "M071"

# code → (what it means, how to fix it); the manifest reference is generated from this table.
CODES: dict[str, tuple[str, str]] = {
    NO_INPUT: ("No manifest documents were found.", "Point ftops at a manifests directory or a .yaml file."),
    UNREADABLE: ("A manifest file cannot be read or is not UTF-8 text.", "Check permissions and encoding."),
    YAML_SYNTAX: ("The file is not valid YAML.", "Fix the syntax at the reported line and column."),
    NOT_A_MAPPING: ("A document is not a mapping of keys to values.", "Start it with apiVersion, kind, ..."),
    DUPLICATE_KEY: ("A key appears twice in one mapping (YAML would silently keep the last).", "Remove one."),
    API_VERSION: ("apiVersion is missing or not ftops/v1.", "Write `apiVersion: ftops/v1`."),
    UNKNOWN_KIND: ("kind is missing or not File, FineTuningJob, Model, Evaluation or Moved.",
                   "Use one of the five kinds."),
    MISSING_NAME: ("metadata.name is missing.", "Give every resource a name; references use it."),
    BAD_NAME: ("metadata.name breaks the naming rule.", "Lowercase letters, digits, '.', '_', '-'; ≤ 63."),
    UNKNOWN_FIELD: ("A field that the kind does not have (often a typo).", "Use the suggested field name."),
    MISSING_FIELD: ("A required field is missing.", "Add it; see the field reference below."),
    WRONG_TYPE: ("A value has the wrong type (e.g. text where a number is expected).", "Write the right type."),
    OUT_OF_RANGE: ("A number or text is outside the range the API accepts.", "Use a value in the range."),
    INVALID_VALUE: ("A value is not one of the allowed choices.", "Use one of the listed choices."),
    LITERAL_SECRET: ("A secret is written into the manifest.", "Put it in an env var and name it in api_key_env."),
    DUPLICATE_NAME: ("Two resources of one kind share a name.", "Rename one of them."),
    DANGLING_REFERENCE: ("A reference names a resource that does not exist.", "Fix the name or add it."),
    REFERENCE_CYCLE: ("Resources reference each other in a loop.", "Break the loop."),
    MODELS_SHARE_JOB: ("Two Models point at the same FineTuningJob.", "Keep one Model per job."),
    MODEL_NAME_TWICE: ("Two Models ask for the same model name.", "Give each Model its own name."),
    FILE_NOT_FOUND: ("A File's path does not exist.", "Paths are relative to the manifest file's folder."),
    PATH_ESCAPES_ROOT: ("A File's path points outside the project.", "Keep datasets inside the project root."),
    FIM_RATIO_NOT_COMPLETION: ("fim_ratio is only for completion jobs.", "Remove it from the classifier job."),
    CLASSIFIER_NEEDS_TARGETS: ("A classifier job has no classifier_targets.", "Add the targets and labels."),
    CLASSIFIER_MODEL: ("Classifier jobs only run on ministral-3b-latest.", "Set model: ministral-3b-latest."),
    TARGETS_ON_COMPLETION: ("classifier_targets on a completion job.", "Set job_type: classifier or remove."),
    STEPS_AND_EPOCHS: ("Both training_steps and epochs are set.", "Choose one: the API derives the other."),
    BAD_SUFFIX: ("suffix has characters the API refuses (it allows letters, digits, '_' and '-').",
                 "Replace the other characters, e.g. '.' and spaces, with '-'."),
    UNKNOWN_BASE_MODEL: ("model is not a base model that can be fine-tuned for this job type.",
                         "Use the suggested model; `ftops validate` lists the fine-tunable ones."),
    CLASSIFIER_LABELS: ("Classifier targets and the labels in the data disagree.",
                        "Declare every label the data uses; remove labels no row has (or add rows)."),
    MATRIX_UNKNOWN_KEY: ("A matrix key is not a hyperparameter.", "Use a hyperparameter name."),
    MATRIX_EMPTY: ("A matrix key has no values.", "List at least one value."),
    MATRIX_BAD_VALUE: ("A matrix value is outside the hyperparameter's range.", "Use a value in the range."),
    MATRIX_KEY_TWICE: ("A matrix key is also set in hyperparameters.", "Set it in one place only."),
    MATRIX_NAME_CLASH: ("An expanded matrix job's name is already taken.", "Rename the job or the other one."),
    MOVE_KIND: ("A Moved declaration changes the kind (file → job).", "Move an address to one of its own kind."),
    MOVE_TO_MISSING: ("A Moved declaration's `to` is not declared.", "Declare the resource under its new name."),
    MOVE_FROM_DECLARED: ("A Moved declaration's `from` is still declared.", "Rename the resource, or drop the Moved."),
    MOVE_CHAIN: ("Moved declarations chain or loop (a → b, b → c).", "Move straight to the final name: a → c."),
    MOVE_TWICE: ("Two Moved declarations share a `from` or a `to`.", "Keep one Moved per old and per new name."),
    EVAL_SCORER_PARAMETER: ("An Evaluation's scorer lacks its parameter (regex: pattern, json_schema: schema) or "
                            "has an invalid one.", "Add the parameter the scorer needs, or pick another scorer."),
    MODEL_JOB_OR_BEST_OF: ("A Model sets both `job` and `best_of`, or neither.", "Set exactly one of them."),
    BEST_OF_NOT_SWEEP: ("best_of.sweep names no FineTuningJob with a `matrix`.", "Name a matrix job (the sweep)."),
    SMOKE_EXPECT: ("A Model's smoke.expect is not a valid regular expression.", "Fix it (Python `re` syntax)."),
    PROVIDER_FIELD: ("A field the job's provider does not have (e.g. epochs on Together, n_epochs on Mistral).",
                     "Use the provider's own field (the hint names it), or change `provider`."),
    PROVIDER_SHAPE: ("The job asks for something its provider cannot do (several training files on Together).",
                     "Follow the hint, or run the job on another provider."),
    DATASET_TRUNCATED: ("More dataset errors than shown.", "Run `ftops data validate PATH` for all of them."),
    DATASET_UNREADABLE: ("A File's dataset cannot be read.", "Check the file's permissions."),
}
