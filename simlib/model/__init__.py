"""The scenario: validated input models, cross-field checks, defaults and overrides.

Validation happens at the boundary (pydantic): the rest of simlib trusts these objects. One
concept per module: ``fleet``, ``server`` (CAs, hosts, events), ``strategies`` (pins, attacks),
``options`` (response, economics, metrics), ``scenario`` (the whole), ``checks`` (cross-field),
``loading`` (files), ``overrides`` (dotted paths).
"""

from __future__ import annotations

from simlib.model.base import (
    MAX_TRUST_CHANGES,
    KeyAlgorithm,
    ScenarioWarning,
)
from simlib.model.fleet import (
    Adoption,
    AdoptionComponent,
    Fleet,
    NewInstalls,
    PlatformSpec,
    read_curve_csv,
)
from simlib.model.loading import default_scenario, load_scenario, read_yaml, scenario_from_dict
from simlib.model.messages import describe_validation_error, pick_validation_error
from simlib.model.options import Economics, ForcedUpdate, IncidentResponse, Metrics, MonteCarloSpec
from simlib.model.overrides import apply_overrides, parse_path, set_path
from simlib.model.scenario import Scenario
from simlib.model.server import (
    CADistrust,
    CAMigration,
    CapStep,
    CASpec,
    CrossSign,
    Event,
    HostSpec,
    IntermediateChange,
    IntermediateSpec,
    KeyCompromise,
    MassRevocation,
    RotateEvery,
    TrustStoreChange,
    ValidityStep,
)
from simlib.model.strategies import (
    AttackSpec,
    BackupPin,
    CAIntermediates,
    CARoot,
    DynamicSpec,
    LiteralPin,
    NextKey,
    StrategySpec,
    parse_backup,
)
from simlib.vocabulary import (
    ATTACK_CLASSES,
    CLIENT_LIBRARIES,
    PIN_LEVEL_TABLE,
    PIN_LEVELS,
    PLATFORM_TABLE,
    PLATFORMS,
    PinLevel,
    Platform,
)

__all__ = [
    "ATTACK_CLASSES",
    "CLIENT_LIBRARIES",
    "MAX_TRUST_CHANGES",
    "PIN_LEVELS",
    "PIN_LEVEL_TABLE",
    "PLATFORMS",
    "PLATFORM_TABLE",
    "Adoption",
    "AdoptionComponent",
    "AttackSpec",
    "BackupPin",
    "CADistrust",
    "CAIntermediates",
    "CAMigration",
    "CARoot",
    "CASpec",
    "CapStep",
    "CrossSign",
    "DynamicSpec",
    "Economics",
    "Event",
    "Fleet",
    "ForcedUpdate",
    "HostSpec",
    "IncidentResponse",
    "IntermediateChange",
    "IntermediateSpec",
    "KeyAlgorithm",
    "KeyCompromise",
    "LiteralPin",
    "MassRevocation",
    "Metrics",
    "MonteCarloSpec",
    "NewInstalls",
    "NextKey",
    "PinLevel",
    "Platform",
    "PlatformSpec",
    "RotateEvery",
    "Scenario",
    "ScenarioWarning",
    "StrategySpec",
    "TrustStoreChange",
    "ValidityStep",
    "apply_overrides",
    "default_scenario",
    "describe_validation_error",
    "load_scenario",
    "parse_backup",
    "parse_path",
    "pick_validation_error",
    "read_curve_csv",
    "read_yaml",
    "scenario_from_dict",
    "set_path",
]
