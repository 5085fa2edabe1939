namespace Tessera.Tests.Telemetry;

/// <summary>
/// Tests that start OpenTelemetry in the test process itself (its tracer listens to the Tessera.Cluster source, so
/// every deployment batch then allocates its spans) and tests that count a deployment's bytes per batch: xUnit runs
/// one collection's tests one after another, so a count never sees another test's listener.
/// </summary>
[CollectionDefinition(Name)]
public sealed class InProcessTelemetryCollection
{
    public const string Name = "in-process telemetry listeners";
}
