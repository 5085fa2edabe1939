using System.Diagnostics;
using Tessera.Cluster.Transport;
using Tessera.Cluster.Transport.Messages;

namespace Tessera.Tests.Cluster;

/// <summary>The optional W3C trace context at the end of a RUN payload (protocol version 5).</summary>
public sealed class RunTraceContextTests
{
    private static readonly RunMessage Untraced = new(2, Guid.NewGuid(), 0, 0,
        [new RouteStage([new RouteRank(new byte[32], "127.0.0.1:7001")], ["x"]), new RouteStage([new RouteRank(Enumerable.Repeat((byte)3, 32).ToArray(), "127.0.0.1:7002")], ["h"])], ["y"]);

    [Fact]
    public void TheTraceContextRoundTripsAndStaysThroughTheNextStageAndOtherRanks()
    {
        var context = new ActivityContext(ActivityTraceId.CreateRandom(), ActivitySpanId.CreateRandom(), ActivityTraceFlags.Recorded);
        var read = RunMessage.Read((Untraced with { Trace = context }).Write().Written.Span);
        Assert.Equal(context.TraceId, read.Trace.TraceId);
        Assert.Equal(context.SpanId, read.Trace.SpanId);
        Assert.Equal(ActivityTraceFlags.Recorded, read.Trace.TraceFlags);
        Assert.True(read.Trace.IsRemote);
        Assert.Equal(context.SpanId, read.Next(1).Trace.SpanId);
        Assert.Equal(context.SpanId, read.ForRank(0).Trace.SpanId);
    }

    [Fact]
    public void AnUntracedRunKeepsTheEarlierLayoutByteForByte()
    {
        var traced = (Untraced with { Trace = new ActivityContext(ActivityTraceId.CreateRandom(), ActivitySpanId.CreateRandom(), ActivityTraceFlags.None) }).Write().Written.ToArray();
        var untraced = Untraced.Write().Written.ToArray();
        Assert.Equal(untraced.Length + 26, traced.Length);
        Assert.Equal(untraced, traced[..untraced.Length]);
        Assert.Equal(default, RunMessage.Read(untraced).Trace);
    }

    [Theory]
    [InlineData(2, false, "unknown kind 2")]
    [InlineData(1, true, "all-zero")]
    public void ABadTraceContextIsMalformed(byte kind, bool zeroIds, string expected)
    {
        var context = new ActivityContext(ActivityTraceId.CreateRandom(), ActivitySpanId.CreateRandom(), ActivityTraceFlags.Recorded);
        byte[] payload = (Untraced with { Trace = context }).Write().Written.ToArray();
        int at = payload.Length - 26;
        payload[at] = kind;
        if (zeroIds) Array.Clear(payload, at + 1, 16);
        var e = Assert.Throws<ClusterException>(() => RunMessage.Read(payload));
        Assert.Equal(ClusterErrorCode.Malformed, e.Code);
        Assert.Contains(expected, e.Message);
        Assert.Throws<ClusterException>(() => RunMessage.Read(payload.AsSpan(0, payload.Length - 1)));
    }
}
