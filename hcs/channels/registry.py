"""The channel registry: the one place the application finds a channel by its name."""

from __future__ import annotations

from hcs.channels.chat import ChatEntry
from hcs.channels.email import EmailEntry
from hcs.channels.entry import ChannelEntry
from hcs.channels.letter import LetterEntry
from hcs.channels.sms import SmsEntry

# In the order channels are listed to people (templates_store.models.CHANNELS).
CHANNELS: dict[str, ChannelEntry] = {
    entry.name: entry for entry in (EmailEntry(), SmsEntry(), ChatEntry(), LetterEntry())
}
