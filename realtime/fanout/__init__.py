"""Fan-out: how one group message reaches N sockets (docs/fanout.md).

`layer.FanoutChannelLayer` is the project's channel layer (settings.CHANNEL_LAYERS): one Redis
pub/sub delivery per process. `tecnocursos.core.channels_dispatch.FanoutDispatchMixin` is its
consumer half (in core, so that every app's consumer may take it): the process hands each message
to its local members in one loop.
"""
