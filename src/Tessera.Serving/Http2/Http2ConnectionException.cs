namespace Tessera.Serving.Http2;

/// <summary>A connection error (RFC 9113 §5.4.1): the connection sends GOAWAY with <see cref="Code"/> and closes.</summary>
internal sealed class Http2ConnectionException : Exception
{
    public Http2ConnectionException(Http2ErrorCode code, string message)
        : base(message)
    {
        Code = code;
    }

    public Http2ErrorCode Code { get; }
}
