using System.IO.Pipelines;
using Tessera.Cluster.Transport;
using Tessera.Cluster.Transport.Messages;
using Tessera.Tensors;

namespace Tessera.Tests.Cluster;

/// <summary>Every wire message round-tripped, and fed garbage: a parser may only ever throw ClusterException.</summary>
public sealed class ProtocolTests
{
    private static RunMessage SampleRun() => new(
        3,
        Guid.NewGuid(),
        1,
        1,
        [
            new RouteStage(Enumerable.Range(0, 32).Select(i => (byte)i).ToArray(), "10.0.0.1:7001", ["x"]),
            new RouteStage([new RouteRank(new byte[32], "[::1]:7002"), new RouteRank(Enumerable.Repeat((byte)7, 32).ToArray(), "10.0.0.3:7003")], ["h", "x", "é"]),
        ],
        ["y", "z"]);

    private static CollectiveMessage SampleCollective(CollectiveKind kind) =>
        new(kind, 1, 2, 3, Guid.NewGuid(), kind == CollectiveKind.Block ? "tp3:/layer.0/MatMul" : string.Empty, kind == CollectiveKind.Abort ? "rank 1 failed" : string.Empty);

    [Fact]
    public void MessagesRoundTrip()
    {
        var run = SampleRun();
        var back = RunMessage.Read(run.Write().Written.Span);
        Assert.Equal(run.TensorCount, back.TensorCount);
        Assert.Equal(run.ReplyTo, back.ReplyTo);
        Assert.Equal((run.Current, run.Rank), (back.Current, back.Rank));
        Assert.Equal(run.Outputs, back.Outputs);
        for (int i = 0; i < run.Stages.Length; i++)
        {
            Assert.Equal(run.Stages[i].Degree, back.Stages[i].Degree);
            for (int k = 0; k < run.Stages[i].Degree; k++)
            {
                Assert.Equal(run.Stages[i].Ranks[k].ModelHash, back.Stages[i].Ranks[k].ModelHash);
                Assert.Equal(run.Stages[i].Ranks[k].Address, back.Stages[i].Ranks[k].Address);
            }

            Assert.Equal(run.Stages[i].Inputs, back.Stages[i].Inputs);
        }

        Assert.Throws<ClusterException>(() => RunMessage.Read((run with { Rank = 2 }).Write().Written.Span));
        foreach (var kind in new[] { CollectiveKind.Block, CollectiveKind.Abort })
        {
            var collective = SampleCollective(kind);
            Assert.Equal(collective, CollectiveMessage.Read(collective.Write(77).Written.Span, 77));
        }

        Assert.Throws<ClusterException>(() => CollectiveMessage.Read(SampleCollective(CollectiveKind.Block).Write(77).Written.Span, 76));

        var hello = new HelloMessage(Protocol.Version, ConnectionRole.Peer, Guid.NewGuid(), new byte[32]);
        var helloBack = HelloMessage.Read(hello.Write().Written.Span);
        Assert.Equal((hello.Version, hello.Role, hello.ClientId), (helloBack.Version, helloBack.Role, helloBack.ClientId));

        var info = new WorkerInfo("w1", 2, 1 << 30, 12345, 3, 1, 7_000_000_000, 16, Guid.NewGuid()) { TensorBytesSent = 5L << 33 };
        Assert.Equal(info, WorkerInfo.Read(info.Write().Written.Span));
        var costs = new ModelCostsMessage(Enumerable.Range(0, 32).Select(i => (byte)i).ToArray(), [new(1, 4, 0.0012), new(8, 9, 0.0071)]);
        var costsBack = ModelCostsMessage.Read(costs.Write().Written.Span);
        Assert.Equal(costs.Hash, costsBack.Hash);
        Assert.Equal(costs.Costs.Select(c => (c.Rows, c.Runs)), costsBack.Costs.Select(c => (c.Rows, c.Runs)));
        Assert.Equal(costs.Costs.Select(c => c.SecondsPerRun), costsBack.Costs.Select(c => c.SecondsPerRun), (a, b) => Math.Abs(a - b) < 1e-9);
        Assert.Throws<ClusterException>(() => ModelCostsMessage.Read((costs with { Costs = [new(8, 1, 1), new(2, 1, 1)] }).Write().Written.Span));
        var error = new ErrorMessage(ClusterErrorCode.HashMismatch, "bad bytes");
        Assert.Equal(error, ErrorMessage.Read(error.Write().Written.Span));
        var loaded = new ModelLoadedMessage(new byte[32], 99, ["a", "b"], ["c"]);
        var loadedBack = ModelLoadedMessage.Read(loaded.Write().Written.Span);
        Assert.Equal(loaded.Bytes, loadedBack.Bytes);
        Assert.Equal(loaded.Inputs, loadedBack.Inputs);
        Assert.Equal(loaded.Outputs, loadedBack.Outputs);

        var header = new FrameHeader(123456, FrameType.Result, ulong.MaxValue - 3);
        var bytes = new byte[FrameHeader.Size];
        header.Write(bytes);
        Assert.Equal(header, FrameHeader.Read(bytes));

        var meta = new TensorMeta("logits", DataType.Float32, [2, 3, 4], 96, DataType.Float32);
        var metaBytes = new byte[meta.Size];
        meta.Write(metaBytes);
        var metaBack = TensorMeta.Read(metaBytes);
        Assert.Equal((meta.Name, meta.DataType, meta.ByteLength), (metaBack.Name, metaBack.DataType, metaBack.ByteLength));
        Assert.Equal(meta.Shape, metaBack.Shape);
    }

    [Fact]
    public void GarbageOnlyEverThrowsClusterException()
    {
        var rng = new Random(1234);
        var valid = new[]
        {
            SampleRun().Write().Written.ToArray(),
            new HelloMessage(Protocol.Version, ConnectionRole.Coordinator, Guid.NewGuid(), new byte[32]).Write().Written.ToArray(),
            new WorkerInfo("w", 1, 0, 0, 0, 0).Write().Written.ToArray(),
            new ModelLoadedMessage(new byte[32], 1, ["a"], ["b"]).Write().Written.ToArray(),
            new ModelCostsMessage(new byte[32], [new(1, 2, 0.001), new(4, 2, 0.003)]).Write().Written.ToArray(),
            SampleCollective(CollectiveKind.Block).Write(5).Written.ToArray(),
            SampleCollective(CollectiveKind.Abort).Write(0).Written.ToArray(),
        };
        Action<byte[]>[] parsers =
        [
            b => RunMessage.Read(b), b => HelloMessage.Read(b), b => ChallengeMessage.Read(b), b => WorkerInfo.Read(b),
            b => ErrorMessage.Read(b), b => ModelLoadedMessage.Read(b), b => TensorMeta.Read(b), b => FrameHeader.Read(b),
            b => CollectiveMessage.Read(b, 5), b => CollectiveMessage.Read(b, 0), b => ModelCostsMessage.Read(b),
        ];
        for (int i = 0; i < 4000; i++)
        {
            byte[] input;
            if (i % 2 == 0)
            {
                input = new byte[rng.Next(0, 200)];
                rng.NextBytes(input);
            }
            else
            {
                // Mutations of valid messages: truncated, bytes flipped, or extended.
                input = (byte[])valid[rng.Next(valid.Length)].Clone();
                switch (rng.Next(3))
                {
                    case 0: input = input[..rng.Next(input.Length)]; break;
                    case 1: input[rng.Next(input.Length)] ^= (byte)rng.Next(1, 256); break;
                    default: input = [.. input, (byte)rng.Next(256)]; break;
                }
            }

            foreach (var parse in parsers)
            {
                try
                {
                    parse(input);
                }
                catch (ClusterException)
                {
                }
            }
        }
    }

    [Fact]
    public async Task TensorFramesStreamThroughPipesIntact()
    {
        // Small pipe thresholds force the 3 MB tensor through in many pieces with backpressure.
        var limits = new TransportLimits { MaxControlFrameBytes = 1 << 20 };
        var pipe = new Pipe(new PipeOptions(pauseWriterThreshold: 256 * 1024, resumeWriterThreshold: 128 * 1024));
        var writer = new FrameWriter(pipe.Writer.AsStream(), limits);
        var reader = new FrameReader(pipe.Reader.AsStream(), limits);
        var big = ClusterFixture.Random([768, 1024], 1);
        var ints = Tensor.FromArray(new long[] { 1, -2, long.MaxValue }, 3);
        var empty = Tensor.Allocate(DataType.Float32, [0, 5]);
        var send = writer.SendAsync(FrameType.Result, 42, new WireWriter().U16(3).Written, [new("big", big), new("ints", ints), new("empty", empty)], default);

        var control = await reader.ReadAsync(TimeSpan.FromSeconds(5), default);
        Assert.Equal((FrameType.Result, 42UL), (control!.Type, control.RequestId));
        var got = new Dictionary<string, Tensor>();
        for (int i = 0; i < 3; i++)
        {
            var f = await reader.ReadAsync(TimeSpan.FromSeconds(5), default);
            got[f!.TensorName!] = f.Tensor!;
        }

        await send;
        Assert.Equal(big.ToArray<float>(), got["big"].ToArray<float>());
        Assert.Equal(big.Shape, got["big"].Shape);
        Assert.Equal(ints.ToArray<long>(), got["ints"].ToArray<long>());
        Assert.Equal([0, 5], got["empty"].Shape);
    }

    [Fact]
    public async Task CollectiveBlocksStreamFromASpanIntoPooledArrays()
    {
        // A 3 MB block goes through a small pipe with backpressure, written synchronously as a collective does.
        var limits = new TransportLimits { MaxControlFrameBytes = 1 << 20 };
        var pipe = new Pipe(new PipeOptions(pauseWriterThreshold: 256 * 1024, resumeWriterThreshold: 128 * 1024));
        var writer = new FrameWriter(pipe.Writer.AsStream(), limits);
        var reader = new FrameReader(pipe.Reader.AsStream(), limits);
        byte[] block = new byte[3 << 20];
        new Random(5).NextBytes(block);
        var message = SampleCollective(CollectiveKind.Block);
        var send = Task.Run(() => writer.SendBlock(FrameType.Collective, 9, message.Write(block.Length).Written.Span, block, TimeSpan.FromSeconds(5)));
        var frame = await reader.ReadAsync(TimeSpan.FromSeconds(5), default);
        await send;
        Assert.Equal((FrameType.Collective, 9UL, block.Length), (frame!.Type, frame.RequestId, frame.BlockLength));
        Assert.Equal(message, CollectiveMessage.Read(frame.Payload, frame.BlockLength));
        Assert.True(frame.Block.AsSpan(0, frame.BlockLength).SequenceEqual(block));

        // An abort has no block: it is read as a control frame.
        var abort = SampleCollective(CollectiveKind.Abort);
        await writer.SendAsync(FrameType.Collective, 10, abort.Write(0), default);
        var abortFrame = await reader.ReadAsync(TimeSpan.FromSeconds(5), default);
        Assert.Null(abortFrame!.Block);
        Assert.Equal(abort, CollectiveMessage.Read(abortFrame.Payload, 0));
    }

    [Fact]
    public async Task ReaderEnforcesLimitsAndTimeouts()
    {
        var limits = new TransportLimits { MaxControlFrameBytes = 1024, MaxTensorBytes = 4096, ReadTimeout = TimeSpan.FromMilliseconds(200) };
        var pipe = new Pipe();
        var reader = new FrameReader(pipe.Reader.AsStream(), limits);

        await pipe.Writer.WriteAsync(RawExchange.Header(FrameType.Ping, 2048));
        Assert.Equal(ClusterErrorCode.FrameTooLarge, (await Assert.ThrowsAsync<ClusterException>(() => reader.ReadAsync(TimeSpan.FromSeconds(1), default).AsTask())).Code);

        pipe = new Pipe();
        reader = new FrameReader(pipe.Reader.AsStream(), limits);
        var meta = new TensorMeta("t", DataType.Float32, [2048], 8192, DataType.Float32);
        var bytes = new byte[FrameHeader.Size + meta.Size];
        new FrameHeader((uint)(meta.Size + 8192), FrameType.Tensor, 1).Write(bytes);
        meta.Write(bytes.AsSpan(FrameHeader.Size));
        await pipe.Writer.WriteAsync(bytes);
        Assert.Equal(ClusterErrorCode.FrameTooLarge, (await Assert.ThrowsAsync<ClusterException>(() => reader.ReadAsync(TimeSpan.FromSeconds(1), default).AsTask())).Code);

        // Half a header, then silence: the read timeout, not a hang.
        pipe = new Pipe();
        reader = new FrameReader(pipe.Reader.AsStream(), limits);
        await pipe.Writer.WriteAsync(new byte[4]);
        Assert.Equal(ClusterErrorCode.Timeout, (await Assert.ThrowsAsync<ClusterException>(() => reader.ReadAsync(TimeSpan.FromMilliseconds(200), default).AsTask())).Code);
    }
}
