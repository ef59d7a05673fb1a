# Texts of the application shell (bot/app.py, bot/telegram): shown when something broke.

app-error = Извините, что-то пошло не так. Попробуйте ещё раз чуть позже.
app-error-toast = Не получилось, попробуйте ещё раз
