using BenchmarkDotNet.Running;

// dotnet run -c Release --project bench/Drawbridge.Micro -- [--filter *Name*]   (bench/run.sh micro runs them all)
BenchmarkSwitcher.FromAssembly(typeof(Drawbridge.Micro.PolicyEvaluation).Assembly).Run(args);

