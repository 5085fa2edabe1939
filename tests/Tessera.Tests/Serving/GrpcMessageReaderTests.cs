using System.Buffers.Binary;
using System.IO.Pipelines;
using Tessera.Serving.Grpc;
using Tessera.Serving.Http;
using Tessera.Serving.Protocol;

namespace Tessera.Tests.Serving;

/// <summary>
/// <see cref="GrpcMessageReader"/> on a real pipe written a few bytes at a time (as HTTP/2 DATA frames split a
/// message anywhere, the prefix included): the message whole in one block; the refusals of everything that is not
/// exactly one uncompressed message within the limit, the over-size one before its bytes are read.
/// </summary>
public sealed class GrpcMessageReaderTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(7)]
    [InlineData(4096)]
    public async Task AMessageSplitAnywhereArrivesWholeInOneBlock(int piece)
    {
        var message = new byte[100_003];
        new Random(piece).NextBytes(message);
        using var block = await ReadAsync(Framed(message), piece, maxBytes: 1 << 20);
        Assert.True(block.Span.SequenceEqual(message));
    }

    [Fact]
    public async Task AnEmptyMessageIsOneMessage()
    {
        using var block = await ReadAsync(Framed([]), 2, maxBytes: 16);
        Assert.Equal(0, block.Length);
    }

    [Theory]
    [InlineData(new byte[0], 400, "has no request message")]
    [InlineData(new byte[] { 0, 0, 0 }, 400, "inside its message's 5-byte prefix")]
    [InlineData(new byte[] { 0, 0, 0, 0, 4, 1, 2 }, 400, "ends after 2 of its message's 4 bytes")]
    [InlineData(new byte[] { 0, 0, 0, 0, 1, 9, 0, 0, 0, 0, 1, 9 }, 400, "more than one message")]
    [InlineData(new byte[] { 0, 0, 0, 0, 1, 9, 0 }, 400, "more than one message")]
    [InlineData(new byte[] { 1, 0, 0, 0, 1, 9 }, 501, "compressed")]
    [InlineData(new byte[] { 2, 0, 0, 0, 1, 9 }, 400, "compressed flag is 2")]
    [InlineData(new byte[] { 0, 0, 0, 1, 0, 9 }, 413, "256 bytes is larger than the limit of 255 bytes")]
    [InlineData(new byte[] { 0, 255, 255, 255, 255 }, 413, "4294967295 bytes is larger")]
    public async Task WhatIsNotOneMessageWithinTheLimitIsRefused(byte[] body, int status, string message)
    {
        foreach (int piece in new[] { 1, 64 })
        {
            var e = await Assert.ThrowsAsync<ServingException>(() => ReadAsync(body, piece, maxBytes: 255));
            Assert.Equal(status, e.StatusCode);
            Assert.Contains(message, e.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task AnOverSizeMessageIsRefusedFromItsPrefixWithoutWaitingForItsBytes()
    {
        var pipe = new Pipe();
        await pipe.Writer.WriteAsync(new byte[] { 0, 0, 0x10, 0, 0 }); // 1 MiB announced, nothing of it sent, the stream left open
        var e = await Assert.ThrowsAsync<ServingException>(() => GrpcMessageReader.ReadAsync(pipe.Reader, new RequestBufferPool(1 << 20), 1000, CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal(413, e.StatusCode);
    }

    internal static byte[] Framed(byte[] message)
    {
        var framed = new byte[GrpcMessageReader.PrefixBytes + message.Length];
        BinaryPrimitives.WriteUInt32BigEndian(framed.AsSpan(1), (uint)message.Length);
        message.CopyTo(framed, GrpcMessageReader.PrefixBytes);
        return framed;
    }

    /// <summary>The reader over a pipe another task writes <paramref name="body"/> into, <paramref name="piece"/> bytes per flush.</summary>
    private static async Task<RequestBuffer> ReadAsync(byte[] body, int piece, long maxBytes)
    {
        var pipe = new Pipe(new PipeOptions(pauseWriterThreshold: 0));
        var writing = Task.Run(async () =>
        {
            for (int at = 0; at < body.Length; at += piece)
            {
                await pipe.Writer.WriteAsync(body.AsMemory(at, Math.Min(piece, body.Length - at)));
                if (at % (piece * 64) == 0) await Task.Yield();
            }

            await pipe.Writer.CompleteAsync();
        });
        try
        {
            return await GrpcMessageReader.ReadAsync(pipe.Reader, new RequestBufferPool(4 << 20), maxBytes, CancellationToken.None);
        }
        finally
        {
            await writing;
        }
    }
}
