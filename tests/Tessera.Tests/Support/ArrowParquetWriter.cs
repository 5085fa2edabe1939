using System.Diagnostics;
using Tessera.Tensors;
using Tessera.Tensors.Formats;

namespace Tessera.Tests.Support;

/// <summary>
/// Writes Parquet files with a writer nobody here wrote: arrow-rs's (parquet-wasm) fed by Apache Arrow's JavaScript
/// library (conformance/write-parquet.mjs, installed under the cache by prepare.sh), so a dataset test does not read
/// back only what Parquet.Net, its own reader's library, writes.
/// </summary>
internal static class ArrowParquetWriter
{
    /// <summary>
    /// A file at <paramref name="path"/> with a column per tensor (float32; one of rank 2 or more becomes a
    /// fixed-size list per record), in row groups of <paramref name="rowGroupRows"/> rows, pages compressed with Snappy.
    /// </summary>
    public static void Write(string path, int rowGroupRows, params (string Name, Tensor Values)[] columns)
    {
        string work = Directory.CreateTempSubdirectory("tessera-arrow-").FullName;
        try
        {
            var info = new ProcessStartInfo("node") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            info.ArgumentList.Add(Path.Combine(TestPaths.RepositoryRoot, "conformance", "write-parquet.mjs"));
            info.ArgumentList.Add(Path.Combine(TestPaths.Cache, "npm-parquet"));
            info.ArgumentList.Add(path);
            info.ArgumentList.Add(rowGroupRows.ToString(System.Globalization.CultureInfo.InvariantCulture));
            foreach (var (name, values) in columns)
            {
                string file = Path.Combine(work, name + ".npy");
                NpyFormat.WriteFile(file, values);
                info.ArgumentList.Add($"{name}={file}");
            }

            using var process = Process.Start(info)!;
            var stdout = process.StandardOutput.ReadToEndAsync();
            string stderr = process.StandardError.ReadToEnd();
            if (!process.WaitForExit(TimeSpan.FromMinutes(1))) process.Kill(entireProcessTree: true);
            Assert.True(process.ExitCode == 0, $"write-parquet.mjs failed (run conformance/prepare.sh): {stderr}{stdout.Result}");
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }
}
