using System.CommandLine;
using System.Globalization;
using Tessera.Kernels.Core;
using Tessera.Onnx.Graph;
using Tessera.Onnx.Io;
using Tessera.Tensors;

namespace Tessera.Cli.Commands;

/// <summary>`tessera inspect`: what a model is made of and whether Tessera can run it.</summary>
internal static class InspectCommand
{
    public static Command Create()
    {
        var modelPath = new Argument<string>("MODEL") { Description = "the .onnx model" };
        var command = new Command("inspect", "Show a model's opsets, inputs, outputs, operators and parameters") { modelPath };
        command.SetAction(parse =>
        {
            var model = ModelReader.Load(parse.GetValue(modelPath)!);
            var graph = model.Graph;
            var inv = CultureInfo.InvariantCulture;
            Console.WriteLine($"model: {parse.GetValue(modelPath)} (IR version {model.IrVersion}, producer '{model.ProducerName} {model.ProducerVersion}')");
            Console.WriteLine("opsets: " + string.Join(", ", model.OpsetImports.Select(kv => $"{(kv.Key.Length == 0 ? "ai.onnx" : kv.Key)} {kv.Value}")));
            Console.WriteLine("inputs:");
            foreach (var input in graph.Inputs)
            {
                Console.WriteLine($"  {input.Name}: {DataTypes.Name(input.ElementType)} {input.FormatShape()}");
            }

            Console.WriteLine("outputs:");
            foreach (var output in graph.Outputs)
            {
                Console.WriteLine($"  {output.Name}: {DataTypes.Name(output.ElementType)} {output.FormatShape()}");
            }

            Console.WriteLine(string.Create(inv, $"parameters: {graph.ParameterCount:N0} ({graph.ParameterBytes:N0} bytes) in {graph.Initializers.Count} initializers and {graph.Nodes.Count(n => n.OpType == "Constant")} Constant nodes"));
            Console.WriteLine($"nodes: {graph.Nodes.Count}");
            Console.WriteLine("operators:");
            foreach (var group in graph.Nodes.GroupBy(n => (n.Domain, n.OpType)).OrderByDescending(g => g.Count()).ThenBy(g => g.Key.OpType, StringComparer.Ordinal))
            {
                string domain = group.Key.Domain.Length > 0 ? group.Key.Domain + "." : string.Empty;
                Console.WriteLine($"  {domain}{group.Key.OpType,-28} {group.Count(),6}");
            }

            var unsupported = graph.Nodes
                .Where(n => !KernelRegistry.Default.Supports(n.Domain, n.OpType, model.OpsetFor(n.Domain)))
                .GroupBy(n => n.OpType)
                .ToList();
            if (unsupported.Count == 0)
            {
                Console.WriteLine("unsupported operators: none");
            }
            else
            {
                Console.WriteLine("unsupported operators:");
                foreach (var group in unsupported)
                {
                    Console.WriteLine($"  {group.Key} (opset {model.OpsetFor(group.First().Domain)}), e.g. node '{group.First().DisplayName}'");
                }
            }

            return 0;
        });
        return command;
    }
}
