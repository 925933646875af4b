"""CheckCellMetadataCompiled: nbgrader's metadata check (same checks, same errors), its schema compiled once."""
from __future__ import annotations

import functools
import json
import traceback
from typing import Any

import jsonschema
import jsonschema.exceptions
import jsonschema.validators
from nbformat.notebooknode import NotebookNode
from nbgrader.nbgraderformat import MetadataValidator, ValidationError
from nbgrader.nbgraderformat.common import BaseMetadataValidator
from nbgrader.preprocessors import CheckCellMetadata


@functools.cache
def _compiled_schema(schema_text: str) -> Any:
    schema = json.loads(schema_text)
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)
    return validator_class(schema)


class _SchemaCompiledOnce(BaseMetadataValidator):
    """The schema step of nbgrader's cell validation, with the schema checked and compiled once.

    nbgrader calls `jsonschema.validate` per cell, which first re-checks the schema
    itself against the JSON Schema meta-schema: most of the cost of a pass.
    """

    @functools.cached_property
    def compiled_schema(self) -> Any:
        return _compiled_schema(json.dumps(self.schema, sort_keys=True))

    def validate_cell(self, cell: NotebookNode) -> None:
        meta = cell.metadata.get("nbgrader")
        if meta is None or meta.get("schema_version", 0) != self.schema_version:
            super().validate_cell(cell)   # nbgrader's own handling and messages
            return
        error = jsonschema.exceptions.best_match(self.compiled_schema.iter_errors(meta))
        if error is not None:
            raise error


class CompiledMetadataValidator(MetadataValidator, _SchemaCompiledOnce):
    """nbgrader's MetadataValidator (every rule it checks), on the compiled schema."""


class CheckCellMetadataCompiled(CheckCellMetadata):
    """nbgrader's CheckCellMetadata (same checks, same errors) with the schema compiled once per process."""

    def preprocess(self, nb: NotebookNode, resources: dict[str, Any]) -> tuple[NotebookNode, dict[str, Any]]:
        try:
            CompiledMetadataValidator().validate_nb(nb)
        except ValidationError:
            self.log.error(traceback.format_exc())
            msg = "Notebook failed to validate; the nbgrader metadata may be corrupted."
            self.log.error(msg)
            raise ValidationError(msg) from None
        return nb, resources
