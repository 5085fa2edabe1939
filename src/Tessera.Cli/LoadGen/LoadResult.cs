namespace Tessera.Cli.LoadGen;

/// <summary>
/// What a run measured. Only requests started after the warmup count; every one that started before the end is
/// waited for. <see cref="Ok"/> are 200 answers, whose latencies (send to last response byte) are in
/// <see cref="Latency"/>; everything else is an error, keyed by HTTP status or by transport failure.
/// </summary>
internal sealed record LoadResult(
    LoadSettings Settings,
    string ModelName,
    int RequestBytes,
    long Ok,
    IReadOnlyDictionary<string, long> Errors,
    LatencyHistogram Latency,
    double MeasuredSeconds,
    bool Interrupted)
{
    public long ErrorCount => Errors.Values.Sum();

    public long Requests => Ok + ErrorCount;

    public double ThroughputPerSecond => MeasuredSeconds > 0 ? Ok / MeasuredSeconds : 0;
}
