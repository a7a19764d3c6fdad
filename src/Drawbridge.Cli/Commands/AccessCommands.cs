using System.CommandLine;
using Drawbridge.Cli.Api;
using Drawbridge.Cli.Output;
using Drawbridge.Contracts;

namespace Drawbridge.Cli.Commands;

/// <summary>user add|list|disable|enable and role assign|list|remove: who may use Drawbridge, and for what.</summary>
internal static class AccessCommands
{
    public static Command User()
    {
        var name = new Argument<string>("name") { Description = "User name (case-insensitive)" };
        var displayName = new Option<string?>("--display-name") { Description = "Full name shown in the UI" };
        var passwordStdin = new Option<bool>("--password-stdin") { Description = "Read a password for the web UI from standard input (at least 12 characters)" };
        var add = new Command("add", "Add a user; give them roles with 'drawbridge role assign'") { name, displayName, passwordStdin };
        add.SetHandler(async (result, printer, ct) =>
        {
            var password = result.GetValue(passwordStdin) ? (await Console.In.ReadLineAsync(ct))?.TrimEnd('\r') : null;
            using var api = DrawbridgeApi.FromConfig();
            var body = new UserCreateRequest { Name = result.GetValue(name), DisplayName = result.GetValue(displayName), Password = password };
            var user = await api.PostAsync("api/v1/users", body, DrawbridgeJson.Wire.UserCreateRequest, DrawbridgeJson.Wire.UserView, ct);
            printer.Show(user, DrawbridgeJson.Indented.UserView, () => printer.Line($"Added user {user.Name}."));
            return 0;
        });

        var list = new Command("list", "List users");
        list.SetHandler(async (result, printer, ct) =>
        {
            using var api = DrawbridgeApi.FromConfig();
            var users = await api.GetAsync("api/v1/users", DrawbridgeJson.Wire.ListUserView, ct);
            printer.Show(users, DrawbridgeJson.Indented.ListUserView, () => printer.Table(["NAME", "DISPLAY NAME", "PASSWORD", "STATE", "CREATED"], users.Select(u => new[]
            {
                u.Name ?? "", u.DisplayName ?? "", u.HasPassword ? "yes" : "no", u.DisabledUtc is null ? "enabled" : "disabled", u.CreatedUtc.UtcDateTime.ToString("u", System.Globalization.CultureInfo.InvariantCulture),
            })));
            return 0;
        });

        return new Command("user", "Local user accounts") { add, list, SetState(name, "disable", "Disable a user: their password and tokens stop working at once"), SetState(name, "enable", "Enable a disabled user again") };
    }

    public static Command Role()
    {
        var principal = new Argument<string>("principal") { Description = "User name (or OIDC name)" };
        var role = new Argument<string>("role") { Description = "Owner, JitAdministrator, JitRequester, Approver or SecurityReader" };
        var scope = new Option<string?>("--scope") { Description = "Full scope id (default: the whole subscription)" };
        var group = new Option<string?>("--resource-group", "-g") { Description = "Only this resource group" };
        var vm = new Option<string?>("--vm") { Description = "Only this machine (in --resource-group, default 'default')" };
        var assign = new Command("assign", "Give a principal a role at a scope; it applies to everything below") { principal, role, scope, group, vm };
        assign.SetHandler(async (result, printer, ct) =>
        {
            using var api = DrawbridgeApi.FromConfig();
            var body = new RoleAssignmentCreateRequest
            {
                Principal = result.GetValue(principal),
                Role = result.GetValue(role),
                Scope = ScopeOf(api, result.GetValue(scope), result.GetValue(group), result.GetValue(vm)),
            };
            var created = await api.PostAsync("api/v1/role-assignments", body, DrawbridgeJson.Wire.RoleAssignmentCreateRequest, DrawbridgeJson.Wire.RoleAssignmentView, ct);
            printer.Show(created, DrawbridgeJson.Indented.RoleAssignmentView,
                () => printer.Line($"{created.Principal} is {created.Role} at {Printer.Scope(created.Scope, api.SubscriptionId)} (assignment {created.Id})."));
            return 0;
        });

        var only = new Option<string?>("--principal") { Description = "Only this principal's assignments" };
        var list = new Command("list", "List role assignments you may read") { only };
        list.SetHandler(async (result, printer, ct) =>
        {
            using var api = DrawbridgeApi.FromConfig();
            var path = "api/v1/role-assignments" + (result.GetValue(only) is { } p ? $"?principal={Uri.EscapeDataString(p)}" : "");
            var assignments = await api.GetAsync(path, DrawbridgeJson.Wire.ListRoleAssignmentView, ct);
            printer.Show(assignments, DrawbridgeJson.Indented.ListRoleAssignmentView, () => printer.Table(["ID", "PRINCIPAL", "ROLE", "SCOPE", "BY"], assignments.Select(a => new[]
            {
                a.Id ?? "", a.Principal ?? "", a.Role ?? "", Printer.Scope(a.Scope, api.SubscriptionId), a.CreatedBy ?? "",
            })));
            return 0;
        });

        var id = new Argument<string>("id") { Description = "Assignment id (from 'drawbridge role list')" };
        var remove = new Command("remove", "Remove a role assignment; it stops applying at once") { id };
        remove.SetHandler(async (result, printer, ct) =>
        {
            using var api = DrawbridgeApi.FromConfig();
            await api.DeleteAsync($"api/v1/role-assignments/{Uri.EscapeDataString(result.GetValue(id)!)}", ct);
            printer.Line($"Removed role assignment {result.GetValue(id)}.");
            return 0;
        });

        return new Command("role", "Role assignments: who may do what, where") { assign, list, remove };
    }

    private static Command SetState(Argument<string> name, string verb, string description)
    {
        var command = new Command(verb, description) { name };
        command.SetHandler(async (result, printer, ct) =>
        {
            using var api = DrawbridgeApi.FromConfig();
            var user = await api.PostAsync($"api/v1/users/{Uri.EscapeDataString(result.GetValue(name)!)}/{verb}", DrawbridgeJson.Wire.UserView, ct);
            printer.Show(user, DrawbridgeJson.Indented.UserView, () => printer.Line($"User {user.Name} is {(user.DisabledUtc is null ? "enabled" : "disabled")}."));
            return 0;
        });
        return command;
    }

    private static string? ScopeOf(DrawbridgeApi api, string? scope, string? group, string? vm)
    {
        if (scope is not null)
        {
            return scope;
        }

        return vm is not null ? api.VirtualMachineId(vm, group ?? DrawbridgeApi.DefaultResourceGroup)
            : group is not null ? $"/{api.Subscription}/resourceGroups/{group}"
            : null;
    }
}
