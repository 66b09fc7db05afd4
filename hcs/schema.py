"""Every table HCS knows, on one metadata: the template repository's and the application's."""

from hcs.archive.models import (  # noqa: F401
    ArchiveEntry,
    ArchiveEvent,
    ArchivePayload,
    ErasureRequest,
    LegalHold,
    LookupKey,
    RetentionRule,
    SubjectKey,
)
from hcs.audit import AuditEntry  # noqa: F401
from hcs.callbacks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint  # noqa: F401
from hcs.dispatch.heartbeat import WorkerBeat  # noqa: F401
from hcs.dispatch.leases import WorkerLease  # noqa: F401
from hcs.governance.models import Approval, ApprovalPolicy, RedTeamRun  # noqa: F401
from hcs.identity import ApiKey, User  # noqa: F401
from hcs.jobs.models import Job  # noqa: F401
from hcs.messages.models import (  # noqa: F401
    Consent,
    IdempotencyRecord,
    Message,
    MessageEvent,
    OutboxEntry,
    ParkedEvent,
)
from hcs.sealing.checkpoints import Checkpoint  # noqa: F401
from hcs.sealing.leaves import LeafSignature  # noqa: F401
from hcs.signoffs.models import SignoffItem  # noqa: F401
from templates_store.models import (  # noqa: F401
    BlockVersion,
    ContentBlock,
    Template,
    TemplateVersion,
    Theme,
    ThemeVersion,
)
from templates_store.orm import Base

metadata = Base.metadata
