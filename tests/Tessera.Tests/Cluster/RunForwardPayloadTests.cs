using System.Diagnostics;
using Tessera.Cluster.Transport;
using Tessera.Cluster.Transport.Messages;

namespace Tessera.Tests.Cluster;

/// <summary>
/// A worker sends a received RUN on (to the next stage, to the other ranks of its group) as the received payload with
/// its tensor count, stage and rank set, rather than writing the route again: those bytes must be exactly what
/// writing the message would give.
/// </summary>
public sealed class RunForwardPayloadTests
{
    private static RunMessage Route(ActivityContext trace, WireDataType wire) => new(
        2,
        Guid.NewGuid(),
        0,
        0,
        [
            new RouteStage([new RouteRank(Enumerable.Range(0, 32).Select(i => (byte)i).ToArray(), "127.0.0.1:7001")], ["input_ids"]),
            new RouteStage([new RouteRank(new byte[32], "[::1]:7002"), new RouteRank(Enumerable.Repeat((byte)7, 32).ToArray(), "10.0.0.3:7003"), new RouteRank(Enumerable.Repeat((byte)9, 32).ToArray(), "10.0.0.4:7004")], ["h", "é"]),
            new RouteStage([new RouteRank(Enumerable.Repeat((byte)5, 32).ToArray(), "127.0.0.1:7005")], ["h2"]),
        ],
        ["logits", "h2"]) { Trace = trace, Wire = wire };

    public static TheoryData<bool, WireDataType> Cases => new()
    {
        { false, WireDataType.Float32 },
        { true, WireDataType.Float32 },
        { true, WireDataType.BFloat16 },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void TheForwardedPayloadIsTheWrittenOne(bool traced, WireDataType wire)
    {
        var context = traced ? new ActivityContext(ActivityTraceId.CreateRandom(), ActivitySpanId.CreateRandom(), ActivityTraceFlags.Recorded, isRemote: true) : default;
        var received = RunMessage.Read(Route(context, wire).Write().Written.ToArray());
        // Stage 0 forwards to stage 1 (3 tensors), whose rank 0 relays to ranks 1 and 2, then forwards to stage 2.
        var next = received.Next(3);
        Assert.Equal(next.Write().Written.ToArray(), next.Payload().ToArray());
        var atStage1 = RunMessage.Read(next.Payload().ToArray());
        Assert.Equal(1, atStage1.Current);
        Assert.Equal(3, atStage1.TensorCount);
        for (int rank = 1; rank < 3; rank++)
        {
            var relayed = atStage1.ForRank(rank) with { TensorCount = 1 };
            Assert.Equal(relayed.Write().Written.ToArray(), relayed.Payload().ToArray());
            Assert.Equal(rank, RunMessage.Read(relayed.Payload().ToArray()).Rank);
        }

        var last = atStage1.Next(1);
        var atStage2 = RunMessage.Read(last.Payload().ToArray());
        Assert.Equal(last.Write().Written.ToArray(), last.Payload().ToArray());
        Assert.Equal((2, 0, 1, wire), (atStage2.Current, atStage2.Rank, atStage2.TensorCount, atStage2.Wire));
        Assert.Equal(context.SpanId, atStage2.Trace.SpanId);
        Assert.Equal(["logits", "h2"], atStage2.Outputs);
    }

    [Fact]
    public void PatchingLeavesTheReceivedPayloadAsItWas()
    {
        byte[] payload = Route(default, WireDataType.Float32).Write().Written.ToArray();
        byte[] copy = payload.ToArray();
        var received = RunMessage.Read(payload);
        _ = received.Next(5).Payload();
        _ = received.ForRank(2).Payload();
        Assert.Equal(copy, payload);
        Assert.Equal(payload, received.Payload().ToArray());
    }

    [Fact]
    public void AMessageChangedBeyondItsCountStageAndRankIsWrittenAgain()
    {
        var received = RunMessage.Read(Route(default, WireDataType.Float32).Write().Written.ToArray());
        var traced = received.Next(3) with { Trace = new ActivityContext(ActivityTraceId.CreateRandom(), ActivitySpanId.CreateRandom(), ActivityTraceFlags.Recorded) };
        var narrowed = received.Next(3) with { Wire = WireDataType.Float16 };
        var rerouted = received.Next(3) with { Outputs = ["logits"] };
        var replied = received.Next(3) with { ReplyTo = Guid.NewGuid() };
        foreach (var changed in new[] { traced, narrowed, rerouted, replied })
        {
            Assert.Equal(changed.Write().Written.ToArray(), changed.Payload().ToArray());
        }
    }
}
