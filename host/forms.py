"""The host's web forms."""

from __future__ import annotations

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
    ValidationError,
)

from host.models import AppointmentStatus, Role
from host.phones import InvalidPhone, normalize_phone
from host.regions import COUNTRIES, province_choices

LANGUAGES = [("en", "English"), ("fr", "Français")]


def choices(pairs) -> list[SelectChoice]:
    """Turn ``(value, label)`` pairs into select options."""
    return [SelectChoice(value, label) for value, label in pairs]


class LoginForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Email()])
    password = PasswordField(_l("Password"), validators=[DataRequired()])


class CompanyForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    v2v_number = StringField(_l("V2V organization number"), validators=[Length(max=50)])
    country = SelectField(
        _l("Country"), choices=choices([("", "—"), *COUNTRIES.items()]), validate_choice=False
    )
    province = SelectField(_l("Province / state"), choices=[], validate_choice=False)
    language = SelectField(_l("Language"), choices=choices(LANGUAGES))

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
        if self.data:
            try:
                self.data = normalize_phone(self.data, self.region)
            except InvalidPhone as exc:
                raise ValidationError(_l("Enter a valid phone number, e.g. 514 555 0123.")) from exc


class CustomerForm(FlaskForm):
    first_name = StringField(_l("First name"), validators=[DataRequired(), Length(max=100)])
    last_name = StringField(_l("Last name"), validators=[Optional(), Length(max=100)])
    mobile_phone = PhoneField(_l("Mobile phone"), validators=[Optional(), Length(max=40)])
    email = EmailField(_l("E-mail"), validators=[Optional(), Email(), Length(max=254)])
    language = SelectField(_l("Language"), choices=choices([("", "—"), *LANGUAGES]))


class AppointmentForm(FlaskForm):
    customer_id = SelectField(_l("Customer"), coerce=int, validators=[InputRequired()])
    starts_at = DateTimeLocalField(
        _l("Start"), format="%Y-%m-%dT%H:%M", validators=[InputRequired()]
    )
    vehicle = StringField(_l("Vehicle"), validators=[Optional(), Length(max=200)])
    status = SelectField(
        _l("Status"),
        choices=choices((s.value, s.value.replace("_", " ")) for s in AppointmentStatus),
    )


class InvoiceForm(FlaskForm):
    customer_id = SelectField(_l("Customer"), coerce=int, validators=[InputRequired()])
    number = StringField(_l("Number"), validators=[DataRequired(), Length(max=40)])
    total = DecimalField(
        _l("Total"),
        places=2,
        validators=[InputRequired(), NumberRange(min=Decimal("0"), max=Decimal("9999999999"))],
    )


class UserForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Email(), Length(max=254)])
    name = StringField(_l("Name"), validators=[Optional(), Length(max=200)])
    role = SelectField(
        _l("Role"),
        choices=choices(
            [(Role.ADMIN.value, _l("Shop administrator")), (Role.STAFF.value, _l("Staff"))]
        ),
    )
    password = PasswordField(_l("Password"), validators=[Optional(), Length(min=8, max=200)])
    active = BooleanField(_l("Active"), default=True)
