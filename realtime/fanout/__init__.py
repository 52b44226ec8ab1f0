"""Fan-out: how one group message reaches N sockets (docs/fanout.md).

`layer.FanoutChannelLayer` is the project's channel layer (settings.CHANNEL_LAYERS): one Redis
pub/sub delivery per process. `dispatch.FanoutDispatchMixin` is its consumer half: the
process hands each message to its local members in one loop.
"""
