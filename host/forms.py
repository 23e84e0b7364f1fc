"""The host's web forms."""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    DecimalField,
    EmailField,
    PasswordField,
    SelectChoice,
    SelectField,
    StringField,
)
from wtforms.validators import (
    DataRequired,
    Email,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    StopValidation,
    ValidationError,
)
from wtforms.widgets import TextArea

from host.models import AppointmentStatus, Role
from host.phones import InvalidPhone, normalize_phone
from host.regions import COUNTRIES, province_choices

# The interface languages, named in the reader's language ("Anglais" in French: issue 12 point 1).
LANGUAGES = [("en", _l("English")), ("fr", _l("French"))]

# The countries by name in the reader's language (issue 12 point 1).
COUNTRY_LABELS = COUNTRIES

APPOINTMENT_STATUS_LABELS = {
    AppointmentStatus.BOOKED: _l("Booked"),
    AppointmentStatus.CONFIRMED: _l("Confirmed"),
    AppointmentStatus.IN_PROGRESS: _l("In progress"),
    AppointmentStatus.READY: _l("Ready"),
    AppointmentStatus.COMPLETED: _l("Completed"),
    AppointmentStatus.CANCELLED: _l("Cancelled"),
}

ROLE_LABELS = {
    Role.OPERATOR: _l("Platform operator"),
    Role.ADMIN: _l("Shop administrator"),
    Role.STAFF: _l("Staff"),
}

# Dates outside this range are typos, and would overflow when moved between time zones.
FIRST_YEAR, LAST_YEAR = 1900, 2100  # issue 13 §4
# Tabs and line breaks are text; other control characters (NUL above all) are refused.
ALLOWED_CONTROLS = {"\t", "\n", "\r"}
# What breaks a line (str.splitlines): never in a one-line field, whose value may become an
# e-mail header or subject (a shop, user or customer name: issue 13 §10).
# A lone surrogate (UTF-8 and so the database refuse it), or the replacement character that
# bytes which were not UTF-8 were read as: the text was damaged on its way (issue 13 §4).
BROKEN_CHARACTERS = re.compile("[\ud800-\udfff\ufffd]")
LINE_BREAKS = frozenset("\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029")


def text_problem(value: str, one_line: bool = True):
    """Return what is wrong with text ``value`` for a person (a lazy translated message), or
    None: control characters (tabs and line breaks apart), a line break when ``one_line``
    (the value may become an e-mail header or subject: issue 13 §10), a broken character.
    The rule of ``ShopForm``, for the inputs that do not come through one (CLI, plain
    ``request.form`` reads)."""
    if any(unicodedata.category(c) == "Cc" and c not in ALLOWED_CONTROLS for c in value):
        return _l("Remove the invisible control characters.")
    if one_line and not LINE_BREAKS.isdisjoint(value):
        return _l("Write this on one line: remove the line breaks.")
    if BROKEN_CHARACTERS.search(value):
        return _l("Type this text again: it holds a broken character (�).")
    return None


def choices(pairs) -> list[SelectChoice]:
    """Turn ``(value, label)`` pairs into select options."""
    return [SelectChoice(value, label) for value, label in pairs]


class ShopForm(FlaskForm):
    """A form that refuses control characters in any text field, and line breaks in any
    one-line field (everything but a text area: a browser's one-line input cannot send one)."""

    def validate(self, extra_validators=None) -> bool:
        """Validate the fields, then refuse text with control characters or line breaks."""
        ok = super().validate(extra_validators)
        for field in self:
            if isinstance(field.data, str):
                problem = text_problem(field.data, not isinstance(field.widget, TextArea))
                if problem is not None:
                    field.errors = [*field.errors, problem]
                    ok = False
        return ok


class LoginForm(ShopForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Email(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])


class CompanyForm(ShopForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    v2v_number = StringField(_l("V2V organization number"), validators=[Length(max=50)])
    country = SelectField(
        _l("Country"), choices=choices([("", "—"), *COUNTRY_LABELS.items()]), validate_choice=False
    )
    province = SelectField(_l("Province / state"), choices=[], validate_choice=False)
    language = SelectField(
        _l("Language"),
        choices=choices([("", _l("Default: French in Quebec, else English")), *LANGUAGES]),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.province.choices = choices([("", "—"), *province_choices(self.country.data)])

    def validate_country(self, field):
        if field.data and field.data not in COUNTRIES:
            raise ValidationError(_l("Pick a country from the list."))

    def validate_province(self, field):
        if field.data and field.data not in dict(province_choices(self.country.data)):
            raise ValidationError(_l("Pick a province or state of the chosen country."))


class PhoneField(StringField):
    """A phone number, normalised to E.164 (national numbers read in ``region``)."""

    region = "CA"

    def pre_validate(self, form):
        if self.data and self.data.strip():
            if len(self.data) > 40:
                raise StopValidation(_l("A phone number has 40 characters at most."))
            try:
                self.data = normalize_phone(self.data, self.region)
            except InvalidPhone as exc:
                raise StopValidation(_l("Enter a valid phone number, e.g. 514 555 0123.")) from exc


def stop_on_unreadable_input(field) -> None:
    """Show one message for a field's input: "required" when empty, else "unreadable"."""
    if not field.process_errors:
        return
    if not field.raw_data or not str(field.raw_data[0]).strip():
        field.errors = []  # the "required" validator says it better
        return
    raise StopValidation()


class MoneyField(DecimalField):
    """An amount of money: a finite decimal number."""

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        # Decimal reads "NaN" and "Infinity", which no amount is (and NaN breaks comparisons).
        if self.data is not None and not self.data.is_finite():
            self.data = None
            raise ValueError(_l("Enter an amount such as 120.50."))

    def pre_validate(self, form):
        stop_on_unreadable_input(self)


class ShopDateTimeField(DateTimeLocalField):
    """A date and time in the shop's time zone, within a sensible range of years."""

    def pre_validate(self, form):
        stop_on_unreadable_input(self)
        if self.data and not FIRST_YEAR <= self.data.year <= LAST_YEAR:
            raise StopValidation(
                _l("Enter a year between %(first)s and %(last)s.", first=FIRST_YEAR, last=LAST_YEAR)
            )


class CustomerForm(ShopForm):
    first_name = StringField(_l("First name"), validators=[DataRequired(), Length(max=100)])
    last_name = StringField(_l("Last name"), validators=[Optional(), Length(max=100)])
    mobile_phone = PhoneField(_l("Mobile phone"), validators=[Optional()])
    email = EmailField(_l("E-mail"), validators=[Optional(), Length(max=254), Email()])
    language = SelectField(_l("Language"), choices=choices([("", "—"), *LANGUAGES]))


class AppointmentForm(ShopForm):
    customer_id = SelectField(_l("Customer"), coerce=int, validators=[InputRequired()])
    starts_at = ShopDateTimeField(
        _l("Start"), format="%Y-%m-%dT%H:%M", validators=[InputRequired()]
    )
    vehicle = StringField(_l("Vehicle"), validators=[Optional(), Length(max=200)])
    status = SelectField(_l("Status"), choices=choices(APPOINTMENT_STATUS_LABELS.items()))


class InvoiceForm(ShopForm):
    customer_id = SelectField(_l("Customer"), coerce=int, validators=[InputRequired()])
    number = StringField(_l("Number"), validators=[DataRequired(), Length(max=40)])
    total = MoneyField(
        _l("Total"),
        places=2,
        validators=[
            InputRequired(),
            NumberRange(
                min=Decimal("0"),
                max=Decimal("9999999999"),
                message=_l("Enter an amount between 0 and 9,999,999,999."),
            ),
        ],
    )


class UserForm(ShopForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=254), Email()])
    name = StringField(_l("Name"), validators=[Optional(), Length(max=200)])
    role = SelectField(
        _l("Role"),
        choices=choices(
            [
                (Role.ADMIN.value, ROLE_LABELS[Role.ADMIN]),
                (Role.STAFF.value, ROLE_LABELS[Role.STAFF]),
            ]
        ),
    )
    password = PasswordField(_l("Password"), validators=[Optional(), Length(min=8, max=200)])
    active = BooleanField(_l("Active"), default=True)
