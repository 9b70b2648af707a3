"""Names of licensekit's modules that are imported when first used, not when named.

The facades (:class:`licensekit.LicenseKit`, :class:`licensekit.aio.AsyncLicenseKit`) name
every group of use cases in their class bodies. Importing those groups there would make a
host that only reaches the class, or builds one kit and calls one method, pay for all of
them (and for the records, rules and email code behind them). So at run time the facade
names each through a :class:`Deferred`: a stand-in for one name of one module that imports
the module the first time it is called or one of its attributes is resolved. Type checkers
see the real names, imported under ``TYPE_CHECKING``.

This module imports nothing but :mod:`sys`, and ``typing`` only for type checkers, so that
reaching the facade class costs next to nothing.
"""

from __future__ import annotations

import builtins
import sys

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing; mypy reads it alike
if TYPE_CHECKING:
    from collections.abc import Callable
    from functools import cached_property as made_on_first_use
    from typing import Any, TypeVar

    F = TypeVar("F", bound=Callable[..., Any])

__all__ = [
    "Deferred",
    "DeferredMember",
    "binds_annotation_names",
    "deferred",
    "made_on_first_use",
]

_UNSET: Any = object()


class Deferred:
    """One name of one module, imported on first use.

    Calling it calls the named object (a class is instantiated, a function run); reading an
    attribute that does not begin with ``_`` gives a :class:`DeferredMember`, which imports
    nothing until it is resolved. Importing is thread-safe (Python's import lock), and two
    threads resolving at once get the same object.
    """

    __slots__ = ("_module", "_name", "_value")

    def __init__(self, module: str, name: str) -> None:
        self._module = module
        self._name = name
        self._value = _UNSET

    @property
    def qualified_name(self) -> str:
        """The module and name this stands for, as ``module.name``."""
        return f"{self._module}.{self._name}"

    def resolve(self) -> Any:
        """Import the module if needed and return the named object."""
        value = self._value
        if value is _UNSET:
            __import__(self._module)
            value = self._value = getattr(sys.modules[self._module], self._name)
        return value

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.resolve()(*args, **kwargs)

    def __getattr__(self, name: str) -> DeferredMember:
        # Only public names: dunder probes (copy, pickle, inspect) and the slots, read before
        # they are set, must stay attribute errors.
        if name.startswith("_"):
            raise AttributeError(name)
        return DeferredMember(self, name)

    def __repr__(self) -> str:
        return f"<deferred {self.qualified_name}>"


class DeferredMember:
    """An attribute of a :class:`Deferred` object (a method of a class), resolved on demand."""

    __slots__ = ("name", "owner")

    def __init__(self, owner: Deferred, name: str) -> None:
        self.owner = owner
        self.name = name

    def resolve(self) -> Any:
        """Import the owner's module if needed and return the attribute."""
        return getattr(self.owner.resolve(), self.name)

    def __repr__(self) -> str:
        return f"<deferred {self.owner.qualified_name}.{self.name}>"


def deferred(module: str, *names: str) -> tuple[Deferred, ...]:
    """Return a :class:`Deferred` for each of *names* of *module*, in order."""
    return tuple(Deferred(module, name) for name in names)


class _MadeOnFirstUse:
    """An attribute made by a method the first time it is read, then kept on the instance.

    Used as a decorator, like :func:`functools.cached_property` (which is what type checkers
    are told it is), but without its lock and without importing :mod:`functools`. Two
    threads reading it first at once may each make a value; both get the one stored first,
    and the other is dropped unseen, so whatever is made this way must be free of side
    effects (licensekit's groups of use cases only keep what they are given).
    """

    __slots__ = ("_make", "_name")

    def __init__(self, make: Callable[[Any], Any]) -> None:
        self._make = make
        self._name = make.__name__

    def __set_name__(self, owner: type, name: str) -> None:
        self._name = name

    def __get__(self, instance: object, owner: type | None = None) -> Any:
        if instance is None:
            return self
        made = self._make(instance)
        # Not a data descriptor: once stored, the instance's own value is found first.
        return instance.__dict__.setdefault(self._name, made)


if not TYPE_CHECKING:
    made_on_first_use = _MadeOnFirstUse


def binds_annotation_names(*modules: str) -> Callable[[F], F]:
    """Make the names the class's own annotations use importable when this is looked up.

    The facade's own annotations (``store: Store | str``, ``settings: Settings | None``)
    name classes that only type checkers import at first, so that reaching the class costs
    nothing. Tools that evaluate them (:func:`typing.get_type_hints`, Sphinx,
    ``inspect.signature(..., eval_str=True)``, frameworks that inject by type) need them in
    the module's globals. Decorating ``__init__`` with this puts them there: every name in
    the annotations of the class's own functions and properties that the module does not
    define is taken from the first of *modules* that has it.

    Looked up on the class (as those tools do), it imports what it must and binds every
    name; from then on ``__init__`` is the plain function again. Looked up on an instance
    (constructing one does), it binds only the names whose modules are already imported,
    so that making an object never imports a module for its annotations' sake alone (the
    facade's ``Mailer`` and ``Templates`` would load the email templates); it becomes the
    plain function once every name is bound.
    """

    def decorate(function: F) -> F:
        return _BindsNames(function, modules)  # type: ignore[return-value]

    return decorate


class _BindsNames:
    """A function of a class whose class's annotations' names are imported on its look-up."""

    __slots__ = ("_function", "_modules", "_name", "_owner", "_unbound")

    def __init__(self, function: Callable[..., Any], modules: tuple[str, ...]) -> None:
        self._function = function
        self._modules = modules
        self._name = function.__name__
        self._owner: type | None = None
        self._unbound: set[str] | None = None  # the names left to bind, once known

    def __set_name__(self, owner: type, name: str) -> None:
        self._owner, self._name = owner, name

    def __get__(self, instance: object, owner: type | None = None) -> Any:
        function = self._function
        home = self._owner or owner
        namespace = function.__globals__
        unbound = self._unbound
        if unbound is None:
            unbound = self._unbound = _annotation_names(home, function) - namespace.keys()
        # Threads doing this at once bind the same objects and put back the same function.
        for name in list(unbound):
            for module in self._modules:
                if instance is not None and module not in sys.modules:
                    continue  # an object being made: no import for annotations' sake
                __import__(module)
                if hasattr(sys.modules[module], name):
                    namespace.setdefault(name, getattr(sys.modules[module], name))
                    unbound.discard(name)
                    break
        if instance is None or not unbound:
            setattr(home, self._name, function)
        return function if instance is None else function.__get__(instance, owner)


def _annotation_names(cls: type | None, function: Callable[..., Any]) -> set[str]:
    """The names in the annotations of *function* and of *cls*'s functions beside it."""
    import re  # here: reaching the class must not load it

    name = re.compile(r"(?<![\w.])[A-Za-z_]\w*")  # a name, not an attribute after a dot
    members = [function, *vars(cls).values()] if cls is not None else [function]
    found: set[str] = set()
    for member in members:
        parts = (member.fget, member.fset) if isinstance(member, property) else (member,)
        for part in parts:
            if getattr(part, "__globals__", None) is not function.__globals__:
                continue  # another module's function (a group's method): its own names
            for annotation in part.__annotations__.values():
                if isinstance(annotation, str):
                    found.update(name.findall(annotation))
    return found - vars(builtins).keys()
