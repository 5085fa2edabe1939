using System.Buffers;

namespace Tessera.Serving.Http2;

/// <summary>What a stream's request body goes to, called on the connection's loop in the order frames arrive.</summary>
internal interface IHttp2Call
{
    /// <summary>A DATA frame's payload (padding removed); valid only during the call.</summary>
    void OnData(ReadOnlySequence<byte> data);

    /// <summary>The client ended its side of the stream.</summary>
    void OnRequestEnd();
}
