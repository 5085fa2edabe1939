namespace Tessera.Serving.Http2;

/// <summary>What an <see cref="Http2Connection"/> announces in its SETTINGS and enforces.</summary>
internal sealed record Http2Limits
{
    /// <summary>SETTINGS_MAX_CONCURRENT_STREAMS: a stream past it is refused (RST_STREAM REFUSED_STREAM).</summary>
    public int MaxConcurrentStreams { get; init; } = 100;

    /// <summary>SETTINGS_INITIAL_WINDOW_SIZE: what a client may send on a stream before the server reads it.</summary>
    public int StreamWindow { get; init; } = 16 << 20;

    /// <summary>The connection's receive window, raised from the protocol's 64 KiB by a WINDOW_UPDATE after the SETTINGS.</summary>
    public int ConnectionWindow { get; init; } = 32 << 20;

    /// <summary>SETTINGS_MAX_FRAME_SIZE: clients that honour it send large messages in fewer frames.</summary>
    public int MaxFrameSize { get; init; } = 1 << 20;

    /// <summary>SETTINGS_MAX_HEADER_LIST_SIZE: a request whose fields are larger is answered 431.</summary>
    public int MaxHeaderListSize { get; init; } = 32 << 10;

    /// <summary>A header block (HEADERS and its CONTINUATIONs) larger than this closes the connection: it is decoded whole, to keep HPACK's table shared.</summary>
    public int MaxHeaderBlockBytes => 2 * MaxHeaderListSize + 1024;
}
