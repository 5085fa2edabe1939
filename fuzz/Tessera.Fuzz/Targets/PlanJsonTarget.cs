using System.Text;
using Tessera.Partitioning;
using Tessera.Partitioning.Plans;

namespace Tessera.Fuzz.Targets;

/// <summary>plan.json as `tessera run --plan` and `tessera serve --plan` read it (<see cref="PlanReader.Parse"/>: JSON, then every cross-check).</summary>
internal sealed class PlanJsonTarget : FuzzTarget
{
    public override string Name => "plan";

    public override string Description => "plan.json (PlanReader: JSON schema and the plan's consistency checks)";

    public override IReadOnlyList<byte[]> Dictionary { get; } = Tokens(
        "\"version\"", "\"strategy\"", "\"stages\"", "\"replicas\"", "\"tensorParallel\"", "\"degree\"", "\"shards\"", "\"dataParallel\"",
        "\"inputAxes\"", "\"index\"", "\"node\"", "\"model\"", "\"sha256\"", "\"inputs\"", "\"outputs\"", "\"cluster\"", "\"nodes\"",
        "\"pipeline\"", "\"hybrid\"", "null", "[]", "{}", "-1", "2147483648", "1e400", "\"../x.onnx\"", "/*", "*/");

    public override void Parse(ReadOnlySpan<byte> input) => PlanReader.Parse(Encoding.UTF8.GetString(input), "plan.json");

    public override bool IsRefusal(Exception e) => e is PartitionException;

    public override IEnumerable<byte[]> Seeds(SeedFiles cache) => cache.CheckedIn(Name);
}
