using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Xunit;

namespace Tessera.Tests.Support;

/// <summary>
/// The widest SIMD tier the kernels dispatch to in this process, and the environment that lowers a child process to
/// a given tier. .NET 10 reads <c>DOTNET_EnableAVX512</c> (it ignores the older <c>DOTNET_EnableAVX512F</c>, which
/// is set too for older runtimes); <c>DOTNET_EnableAVX2=0</c> also turns off FMA and AVX-512, leaving Vector128.
/// </summary>
internal static class SimdTier
{
    public const string Avx512 = "avx512";
    public const string Avx2 = "avx2";
    public const string Vector128Tier = "vector128";

    /// <summary>The tier of this process, by the checks the kernels themselves make.</summary>
    public static string Current =>
        Avx512F.IsSupported && Vector512.IsHardwareAccelerated ? Avx512
        : System.Runtime.Intrinsics.X86.Avx2.IsSupported && Fma.IsSupported ? Avx2
        : Vector128Tier;

    /// <summary>The tiers below <see cref="Current"/> that a child process can be lowered to, widest first.</summary>
    public static IReadOnlyList<string> Lower => Current switch
    {
        Avx512 => [Avx2, Vector128Tier],
        Avx2 => [Vector128Tier],
        _ => [],
    };

    /// <summary>This process's tier and every lower one, as theory data: a test that runs a child process per tier.</summary>
    public static TheoryData<string> ThisAndLower()
    {
        var data = new TheoryData<string> { Current };
        foreach (string tier in Lower) data.Add(tier);
        return data;
    }

    /// <summary>Environment variables that lower a process to <paramref name="tier"/>.</summary>
    public static IReadOnlyDictionary<string, string> Environment(string tier) => tier switch
    {
        Avx2 => new Dictionary<string, string> { ["DOTNET_EnableAVX512"] = "0", ["DOTNET_EnableAVX512F"] = "0" },
        Vector128Tier => new Dictionary<string, string>
        {
            ["DOTNET_EnableAVX512"] = "0", ["DOTNET_EnableAVX512F"] = "0", ["DOTNET_EnableAVX2"] = "0",
        },
        _ => new Dictionary<string, string>(),
    };
}
