using System.Buffers;
using System.Buffers.Binary;
using System.IO.Compression;
using Tessera.Serving.Http;
using Tessera.Serving.Protocol;

namespace Tessera.Serving.Grpc.Server;

/// <summary>
/// Cuts a stream's DATA into its length-prefixed gRPC messages as frames arrive, each copied once from the
/// transport's pipe into a pooled block of its size (the raw contents of a ModelInferRequest are then tensors over
/// that block). A message over the limit is refused from its prefix, before its bytes are read; a compressed one is
/// inflated when the call named gzip. Failures are <see cref="ServingException"/>s with the status of
/// <see cref="GrpcMessageReader"/>'s.
/// </summary>
internal sealed class GrpcMessageAssembler : IDisposable
{
    private readonly RequestBufferPool _pool;
    private readonly long _maxBytes;
    private readonly bool _gzip;
    private readonly byte[] _prefix = new byte[GrpcMessageReader.PrefixBytes];
    private int _prefixLength;
    private RequestBuffer? _message;
    private int _length;
    private bool _compressed;

    public GrpcMessageAssembler(RequestBufferPool pool, long maxBytes, bool gzip)
    {
        _pool = pool;
        _maxBytes = maxBytes;
        _gzip = gzip;
    }

    /// <summary>Part of a message has arrived and not the rest.</summary>
    public bool InsideMessage => _prefixLength > 0;

    /// <summary>Adds <paramref name="data"/>; each message it completes goes to <paramref name="complete"/>, which owns it from then.</summary>
    public void Append(ReadOnlySequence<byte> data, List<RequestBuffer> complete)
    {
        while (!data.IsEmpty)
        {
            if (_prefixLength < _prefix.Length)
            {
                int take = (int)Math.Min(_prefix.Length - _prefixLength, data.Length);
                data.Slice(0, take).CopyTo(_prefix.AsSpan(_prefixLength));
                _prefixLength += take;
                data = data.Slice(take);
                if (_prefixLength < _prefix.Length) return;
                Begin();
            }

            int copy = (int)Math.Min(_length - _message!.Length, data.Length);
            data.Slice(0, copy).CopyTo(_message.Free.Span);
            _message.Length += copy;
            data = data.Slice(copy);
            if (_message.Length == _length)
            {
                var message = _message;
                _message = null;
                _prefixLength = 0;
                complete.Add(_compressed ? Inflated(message) : message);
            }
        }
    }

    public void Dispose()
    {
        _message?.Dispose();
        _message = null;
    }

    private void Begin()
    {
        _length = GrpcMessageReader.PrefixedLength(_prefix, _maxBytes, _gzip, out _compressed);
        _message = _pool.Rent(_length);
    }

    /// <summary>A gzip-compressed message inflated into a block of its own, up to the limit.</summary>
    private RequestBuffer Inflated(RequestBuffer compressed)
    {
        using (compressed)
        {
            var inflated = new MemoryStream();
            try
            {
                using var gzip = new GZipStream(new MemoryStream(compressed.Memory.ToArray()), CompressionMode.Decompress);
                var chunk = new byte[81920];
                int read;
                while ((read = gzip.Read(chunk)) > 0)
                {
                    inflated.Write(chunk, 0, read);
                    if (inflated.Length > _maxBytes) throw new ServingException(413, $"the request message inflates to more than the limit of {_maxBytes} bytes");
                }
            }
            catch (InvalidDataException e)
            {
                throw Invalid($"the gzip-compressed message does not inflate: {e.Message}");
            }

            var message = _pool.Rent((int)inflated.Length);
            inflated.GetBuffer().AsSpan(0, (int)inflated.Length).CopyTo(message.Free.Span);
            message.Length = (int)inflated.Length;
            return message;
        }
    }

    private static ServingException Invalid(string what) => ServingException.BadRequest($"malformed gRPC request: {what}");
}
