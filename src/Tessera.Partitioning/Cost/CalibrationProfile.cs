using System.Text.Json;

namespace Tessera.Partitioning.Cost;

/// <summary>
/// How fast this machine runs each operator family, measured by `tessera calibrate` (see <see cref="Calibrator"/>),
/// so that estimates are in seconds. A cluster node's <c>speed</c> is relative to the machine that was calibrated.
/// Stored as JSON; <see cref="Default"/> holds conservative rates for when no calibration exists.
/// </summary>
public sealed class CalibrationProfile
{
    public const int CurrentVersion = 1;

    public int Version { get; init; } = CurrentVersion;

    /// <summary>Where the numbers come from: "defaults", or the machine name at calibration.</summary>
    public string Source { get; init; } = "defaults";

    /// <summary>Intra-op threads the measurements used.</summary>
    public int Threads { get; init; } = 1;

    public double MatrixProductFlopsPerSecond { get; init; } = 20e9;

    public double ConvolutionFlopsPerSecond { get; init; } = 12e9;

    public double ElementwiseBytesPerSecond { get; init; } = 4e9;

    // 6e9, not the 1e9 this once was: against the matrix-product rate, what `tessera bench --profile` measured for
    // GPT and BERT b8 s128 (the Transposes and Splits of attention; docs/plan-format.md). At 1e9 they took 17% of GPT's
    // estimate against 3% measured, and the pipeline's cut gave the stage with the LM head half the time again.
    public double DataMovementBytesPerSecond { get; init; } = 6e9;

    /// <summary>Fixed cost of running one node (dispatch, small tensors).</summary>
    public double NodeOverheadSeconds { get; init; } = 2e-6;

    /// <summary>Rates used without a calibration file (about one core of a 2020s x86 server; see docs/plan-format.md).</summary>
    public static CalibrationProfile Default { get; } = new();

    /// <summary>~/.cache/tessera/calibration.json, or $XDG_CACHE_HOME/tessera/calibration.json when that is set.</summary>
    public static string DefaultPath
    {
        get
        {
            string? xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
            string root = !string.IsNullOrEmpty(xdg) ? xdg : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
            return Path.Combine(root, "tessera", "calibration.json");
        }
    }

    /// <summary>Estimated seconds of one node at speed 1.</summary>
    public double Seconds(NodeCost node) => NodeOverheadSeconds + node.Family switch
    {
        OperatorFamily.MatrixProduct => node.Flops / MatrixProductFlopsPerSecond,
        OperatorFamily.Convolution => node.Flops / ConvolutionFlopsPerSecond,
        OperatorFamily.DataMovement => node.BytesMoved / DataMovementBytesPerSecond,
        OperatorFamily.Metadata => 0,
        _ => node.BytesMoved / ElementwiseBytesPerSecond,
    };

    public static CalibrationProfile Load(string path)
    {
        var profile = Plans.PlanJson.Parse<CalibrationProfile>(Plans.PlanJson.ReadFile(path, "calibration file"), "calibration file", path);
        if (profile.Version != CurrentVersion) throw new PartitionException($"calibration file '{path}' has version {profile.Version}; this build reads version {CurrentVersion}");
        double[] rates = [profile.MatrixProductFlopsPerSecond, profile.ConvolutionFlopsPerSecond, profile.ElementwiseBytesPerSecond, profile.DataMovementBytesPerSecond];
        if (rates.Any(r => !(r > 0) || double.IsInfinity(r)) || !(profile.NodeOverheadSeconds >= 0))
        {
            throw new PartitionException($"calibration file '{path}': every rate must be a positive number and nodeOverheadSeconds 0 or more");
        }

        return profile;
    }

    public void Save(string path)
    {
        string? dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (dir is not null) Directory.CreateDirectory(dir);
        File.WriteAllText(path, JsonSerializer.Serialize(this, Plans.PlanJson.Options) + "\n");
    }
}
