using System.CommandLine;
using Drawbridge.Cli.Commands;

var root = new RootCommand("Drawbridge: just-in-time access to your machines' management ports")
{
    LoginCommands.Login(),
    LoginCommands.EnrollToken(),
    VmCommands.Create(),
    JitCommands.Create(),
    RequestCommands.Request(),
    RequestCommands.Requests(),
    RequestCommands.Revoke(),
    RequestCommands.Ssh(),
    TokenCommands.Create(),
    AccessCommands.User(),
    AccessCommands.Role(),
    AuditCommands.Create(),
    AssessCommands.Create(),
    NsgCommands.Create(),
    ImportCommands.Create(),
};
root.Options.Add(Cli.Output);
return await root.Parse(args).InvokeAsync();
