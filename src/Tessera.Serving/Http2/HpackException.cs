namespace Tessera.Serving.Http2;

/// <summary>A header block that cannot be decoded (RFC 7541): a connection error of type COMPRESSION_ERROR on a server, an unreadable answer on a client.</summary>
internal sealed class HpackException : IOException
{
    public HpackException(string message)
        : base(message)
    {
    }
}
