using Tessera.Cluster.Coordinator;
using Tessera.Cluster.Transport;
using Tessera.Tensors;

namespace Tessera.Tests.Cluster;

/// <summary>
/// The coordinator's requests awaiting answers: one timer fails those past their deadline (no timer per request), an
/// answered request is never failed afterwards, and a caller's cancellation cancels its entry.
/// </summary>
public sealed class PendingRequestsTests
{
    // Every await is bounded: a broken expiry must fail the test, not hang it.
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task AnUnansweredRequestFailsWithTimeoutAfterItsDeadline()
    {
        using var pending = new PendingRequests(TimeSpan.FromMilliseconds(100));
        var (_, answer) = pending.Register([]);

        var e = await Assert.ThrowsAsync<ClusterException>(() => answer.WaitAsync(Bound));
        Assert.Equal(ClusterErrorCode.Timeout, e.Code);
        Assert.Contains("no answer within 0.1 s", e.Message);
    }

    [Fact]
    public async Task AnAnsweredRequestKeepsItsAnswerWhenLaterOnesExpire()
    {
        using var pending = new PendingRequests(TimeSpan.FromMilliseconds(100));
        var (id, answered) = pending.Register([], inline: true);
        var reply = new Reply(new Frame(new FrameHeader(0, FrameType.Result, id), []), new Dictionary<string, Tensor>());
        Assert.True(pending.Complete(id, reply));

        // A request registered after the answered one has a later deadline: once it expired, the sweep has passed the
        // answered one's deadline too.
        var (_, unanswered) = pending.Register([]);
        await Assert.ThrowsAsync<ClusterException>(() => unanswered.WaitAsync(Bound));

        Assert.True(answered.IsCompletedSuccessfully);
        Assert.Same(reply, await answered);
    }

    [Fact]
    public async Task CancellingARequestCancelsItsAnswerAndForgetsIt()
    {
        using var pending = new PendingRequests(TimeSpan.FromMinutes(5));
        var (id, answer) = pending.Register([]);
        using var source = new CancellationTokenSource();
        source.Cancel();
        pending.Cancel(id, source.Token);

        var e = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => answer.WaitAsync(Bound));
        Assert.Equal(source.Token, e.CancellationToken);
        // The entry is gone: a late answer finds nothing to complete.
        Assert.False(pending.Complete(id, new Reply(new Frame(new FrameHeader(0, FrameType.Result, id), []), new Dictionary<string, Tensor>())));
    }
}
