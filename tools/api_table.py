"""Print the README's table of functions from fastact/_table.py (the one table).

python tools/api_table.py
"""

from fastact._table import ACTIVATIONS, PRELU


def signature(act):
    params = "".join(f", {p}={d!r}" for p, d in act.params)
    if act.choice:
        params += f", {act.choice[0]}={act.choice[1]!r}"
    if act is PRELU:
        params = ", weight, /, axis=1"
        return f"`prelu(x{params}, out=None)`"
    return f"`{act.name}(x, /{params}, out=None)`"


def from_output(act):
    if act.from_output_when is None:
        return "no: " + act.no_output
    return "yes" if act.from_output_when is True else f"if {act.from_output_when} > 0"


def main():
    print(
        "| function | layer | formula | derivative (the backward returns grad_output times it) "
        "| backward from the output |"
    )
    print("|---|---|---|---|---|")
    for act in ACTIVATIONS + (PRELU,):
        print(
            f"| {signature(act)} | `nn.{act.layer}` | {act.formula} | {act.derivative} "
            f"| {from_output(act)} |"
        )


if __name__ == "__main__":
    main()
